export {
  assertPublicUrl,
  publicOnlyLookup,
  publicRangeOf,
  UnsafeUrlError,
  type UrlGuardOptions,
} from './url-guard';

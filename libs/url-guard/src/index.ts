export { assertPublicUrl, publicRangeOf, UnsafeUrlError, type UrlGuardOptions } from './url-guard';

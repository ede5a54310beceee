export { leanFetch, type LeanFetchOptions } from './lean-fetch';

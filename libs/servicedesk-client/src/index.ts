export {
  ServiceDeskClient,
  createServiceDeskClient,
  type AddNoteInput,
  type CreateRequestInput,
  type NoteWrapperKey,
  type Page,
  type RequestPage,
  type ServiceDeskClientOptions,
  type SolutionPage,
} from './client';
export type { AuthTokenAuth, OAuthAuth, ServiceDeskAuth } from './auth';
export { ServiceDeskError, type ServiceDeskErrorKind } from './errors';
export { exchangeGrantCode, type ExchangedGrant, type GrantCodeExchangeInput } from './grant-code';
export type {
  ServiceDeskLookup,
  ServiceDeskNote,
  ServiceDeskRequest,
  ServiceDeskResolution,
  ServiceDeskSolution,
  ServiceDeskUser,
} from './schemas';
export {
  backfillResolvedRequestsQuery,
  type BackfillQueryOptions,
  type ListRequestsParams,
  type ListSolutionsParams,
  type SearchCondition,
  type SearchCriterion,
  type SearchValue,
} from './search';
export {
  clientForServiceDesk,
  clientForTenant,
  tenantAccountsUrl,
  type TenantClientOptions,
  type TenantServiceDeskConfig,
} from './tenant-client';
export {
  KvAccessTokenStore,
  MemoryAccessTokenStore,
  connectAccessTokenStore,
  openAccessTokenStore,
  type AccessTokenStore,
  type SharedTokenEntry,
} from './token-store';
export {
  ZOHO_DATA_CENTRES,
  trustedApiOrigin,
  zohoAccountsUrl,
  zohoAccountsUrlProblem,
} from './zoho';
export { publicOnlyFetch, serviceDeskGuard } from './public-only-fetch';

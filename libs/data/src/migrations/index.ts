import { TenantSchema1732780800000 } from './1732780800000-tenant-schema';
import { RegistryOperations1732867200000 } from './1732867200000-registry-operations';
import { RetrievalRanking1764547200000 } from './1764547200000-retrieval-ranking';
import { RetrievalPostings1764633600000 } from './1764633600000-retrieval-postings';
import { OneNotePerTicket1764720000000 } from './1764720000000-one-note-per-ticket';
import { InlineFieldTf1764806400000 } from './1764806400000-inline-field-tf';
import { DefaultRateLimit1764806500000 } from './1764806500000-default-rate-limit';
import { TenantConfigGrants1764806600000 } from './1764806600000-tenant-config-grants';
import { TicketSourceTime1764806700000 } from './1764806700000-ticket-source-time';
import { EnhancementFeedback1764806800000 } from './1764806800000-enhancement-feedback';
import { RankingFunctions1764806900000 } from './1764806900000-ranking-functions';
import { PostAttempts1764807000000 } from './1764807000000-post-attempts';
import { TermFrequencyArrays1764807100000 } from './1764807100000-term-frequency-arrays';

/** In order. TypeORM records each one in `typeorm_migrations`. */
export const MIGRATIONS = [
  TenantSchema1732780800000,
  RegistryOperations1732867200000,
  RetrievalRanking1764547200000,
  RetrievalPostings1764633600000,
  OneNotePerTicket1764720000000,
  InlineFieldTf1764806400000,
  DefaultRateLimit1764806500000,
  TenantConfigGrants1764806600000,
  TicketSourceTime1764806700000,
  EnhancementFeedback1764806800000,
  RankingFunctions1764806900000,
  PostAttempts1764807000000,
  TermFrequencyArrays1764807100000,
];

/** Changes whenever a migration's SQL changes (test templates are keyed on it). */
export const MIGRATION_FINGERPRINT = MIGRATIONS.map(
  (m) => `${m.name}:${m.prototype.up.toString()}`,
).join('\n');
import { TENANT_TABLES as SCHEMA_TENANT_TABLES } from './1732780800000-tenant-schema';
import { FEEDBACK_TABLE, TICKET_FEEDBACK_TABLE } from './1764806800000-enhancement-feedback';
export { CURRENT_TENANT } from './1732780800000-tenant-schema';
/** Every table of tenant data: forced RLS, isolation-checked by `tep`, purged on offboarding. */
export const TENANT_TABLES = [
  ...SCHEMA_TENANT_TABLES,
  FEEDBACK_TABLE,
  TICKET_FEEDBACK_TABLE,
] as const;
import { RETRIEVAL_STATS_TABLES } from './1764547200000-retrieval-ranking';
import { RETRIEVAL_POSTINGS_TABLE } from './1764633600000-retrieval-postings';
/** What similar-ticket ranking derives from ticket_history: tenant data (forced RLS, purged on offboarding). */
export const RETRIEVAL_TABLES = [...RETRIEVAL_STATS_TABLES, RETRIEVAL_POSTINGS_TABLE] as const;
/** Tables with a tenant_id that are not tenant data: RLS-forced, append-only. */
export const AUDIT_TABLE = 'audit_log';

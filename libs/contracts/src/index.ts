export {
  createTopology,
  stageLanes,
  type StageConsumer,
  type StageLane,
  type StageName,
  type Topology,
} from './topology';
export {
  TicketSchema,
  TicketReceivedSchema,
  TicketContextSchema,
  TicketContextualizedSchema,
  EnhancementSchema,
  TicketEnhancedSchema,
  TicketPostedSchema,
  DeadLetterSchema,
  SimilarTicketSchema,
  KbArticleRefSchema,
  SystemRefSchema,
  type Ticket,
  type TicketReceived,
  type TicketContext,
  type TicketContextualized,
  type Enhancement,
  type TicketEnhanced,
  type TicketPosted,
  type DeadLetter,
} from './messages';
export {
  ServiceDeskWebhookPayloadSchema,
  MAX_DESCRIPTION_CHARS,
  htmlToPlainText,
  type ServiceDeskWebhookPayload,
} from './webhook-payload';
export { TenantDirectoryEntrySchema, type TenantDirectoryEntry } from './tenant-directory';
export {
  StageError,
  backoffDelay,
  dispositionFor,
  type Disposition,
  type RetryLimits,
  type StageErrorCode,
} from './stage-error';
export {
  ContextSourceSchema,
  EnhancementPreferencesSchema,
  NoteLanguageSchema,
  RateLimitsSchema,
  DEFAULT_REQUESTS_PER_MINUTE,
  RedactableSchema,
  noteLanguageOf,
  readEnhancementPreferences,
  type ContextSource,
  type EnhancementPreferences,
  type NoteLanguage,
  type Redactable,
  type RateLimits,
} from './tenant-preferences';
export {
  ServiceDeskSettingsSchema,
  ServiceDeskOAuthSecretSchema,
  ZOHO_DATA_CENTRE_IDS,
  type ZohoDataCentre,
  type ServiceDeskSettings,
  type ServiceDeskOAuthSecret,
} from './servicedesk-settings';
export {
  FEEDBACK_RATINGS,
  MAX_FEEDBACK_REASON_CHARS,
  FeedbackAnswersSchema,
  FeedbackSubmittedSchema,
  type FeedbackAnswers,
  type FeedbackRating,
  type FeedbackSubmitted,
} from './feedback';

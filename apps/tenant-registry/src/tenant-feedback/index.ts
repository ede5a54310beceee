export {
  FEEDBACK_TARGETS,
  FeedbackQuerySchema,
  FeedbackSummaryQuerySchema,
  TenantFeedback,
} from './tenant-feedback.service';

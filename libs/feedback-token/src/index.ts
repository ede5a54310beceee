export {
  FEEDBACK_TOKEN_DAYS,
  FeedbackTokenError,
  FeedbackTokens,
  type FeedbackClaims,
  type FeedbackTokenProblem,
} from './feedback-token';

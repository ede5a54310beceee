export { FEEDBACK_PATH, FEEDBACK_TOKENS, FeedbackController } from './feedback.controller';

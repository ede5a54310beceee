export { FeedbackRecorder } from './feedback-recorder';

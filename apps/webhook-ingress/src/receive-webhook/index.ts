export { WebhookRoute, WEBHOOK_PATH } from './webhook-route';
export {
  ReceiveWebhook,
  RECEIVE_WEBHOOK_SETTINGS,
  type ReceiveWebhookSettings,
} from './receive-webhook.handler';
export { IngressMetrics } from './ingress-metrics';
export { jobIdFor } from './job-id';
export { toHttpReply, type WebhookOutcome, type RejectionReason } from './webhook-outcome';

export {
  SERVICEDESK_SIGNATURE_HEADER,
  GITHUB_SIGNATURE_HEADER,
  signHex,
  verifyHexSignature,
  type SignatureCheck,
  type SignatureFailureReason,
} from './hex-signature';
export {
  STANDARD_WEBHOOK_HEADERS,
  signStandardWebhook,
  standardWebhookKey,
  verifyStandardWebhook,
  type StandardWebhookCheck,
  type StandardWebhookFailureReason,
} from './standard-webhooks';
export { WebhookSecretError, type WebhookSignatureErrorCode } from './hmac';
export { STATIC_TOKEN_HEADER, verifyStaticToken, standardWebhookSecretFor } from './static-token';

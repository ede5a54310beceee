export {
  SERVICEDESK_SIGNATURE_HEADER,
  GITHUB_SIGNATURE_HEADER,
  signHex,
  verifyHexSignature,
  type SignatureCheck,
} from './hex-signature';
export {
  STANDARD_WEBHOOK_HEADERS,
  signStandardWebhook,
  standardWebhookKey,
  verifyStandardWebhook,
  type StandardWebhookCheck,
} from './standard-webhooks';

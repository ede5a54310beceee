export { DEMO_SEED } from './demo-data';
export type { OAuthSettings } from './oauth';
export {
  DEV_API_KEY,
  startSdpSimulator,
  type CallStats,
  type FailureSpec,
  type SdpSimulator,
  type SdpSimulatorOptions,
  type SimulatedNote,
  type SimulatorControl,
  type SimulatorState,
} from './server';
export type { SeedInput, SeedResult, SimulatorMode } from './store';
export {
  DEFAULT_SIGNATURE_HEADER,
  sendWebhook,
  signWebhookBody,
  type WebhookRequest,
  type WebhookResult,
} from './webhooks';

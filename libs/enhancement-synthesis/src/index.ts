export type { EnhancementProvider, SynthesisInput } from './provider';
export {
  SynthesisError,
  type SynthesisErrorKind,
  type SynthesisErrorDetails,
} from './synthesis-error';
export {
  OpenAiCompatibleProvider,
  type OpenAiCompatibleProviderOptions,
} from './openai-compatible-provider';
export { OfflineSynthesizer, synthesizeOffline, offlineConfidence } from './offline-synthesizer';
export {
  NOTE_WORDING,
  formatPercent,
  joinList,
  type NoteLabels,
  type NoteWording,
  type OfflineSentences,
} from './note-language';
export { scrubAddresses } from './address-scrub';
export {
  ResilientSynthesizer,
  createSynthesizerFromEnv,
  describeFailure,
  type ResilientSynthesizerOptions,
  type SynthesizerOptions,
} from './resilient-synthesizer';
export {
  startFakeChatCompletionsServer,
  type FakeChatCompletionsServer,
  type FakeChatReply,
  type FakeChatRequest,
  type FakeChatRequestBody,
  type FakeChatScript,
  type FakeChatServerOptions,
} from './testing/fake-chat-completions-server';

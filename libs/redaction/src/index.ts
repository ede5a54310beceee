export {
  createRedactor,
  stripSecrets,
  STORED_SECRET_PLACEHOLDER,
  type Redactor,
  type RedactorOptions,
  type RestoreOptions,
} from './redactor';
export { REDACTION_KINDS, type PersonalDataKind, type RedactionKind } from './spans';
// Test data, exported so the specs of libraries that send text to a model can prove it is redacted.
export { REDACTION_CORPUS, type CorpusSample } from './test-corpus/corpus';

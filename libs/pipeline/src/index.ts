/**
 * The JetStream stage runtime: topology setup, publishing with Nats-Msg-Id
 * and tenant, job and trace headers, the stage consumers (acks, retries,
 * dead letters, heartbeats, fairness lanes) and the job's log context.
 * Message schemas, subjects and error codes are @tep/contracts'.
 */
export {
  HEADER,
  awaitTopology,
  bucketStreams,
  ensureTopology,
  publishMessage,
  runStageConsumer,
  runExhaustedDeliveryCapture,
  extractTraceContext,
  activeTraceId,
  currentJobLogFields,
  type JobLogFields,
  type PublishInput,
  type RunningConsumer,
  type StageConsumerOptions,
  type StageContext,
  type StageLogger,
  type TopologyOptions,
} from './jetstream';
export { ServerSwitch, type ServerSwitchOptions } from './server-switch';
export {
  STAGES,
  nextHop,
  publishNext,
  type StageInput,
  type StageOutput,
  type StageResult,
} from './stages';
export {
  inboxPrefixOf,
  natsConnectionOptions,
  natsSettingsOf,
  type NatsSettings,
} from './connection';
export {
  NATS_USERS,
  natsPasswordVariable,
  natsPermissions,
  renderNatsAuthorization,
  type NatsPermissions,
  type NatsUser,
} from './permissions';

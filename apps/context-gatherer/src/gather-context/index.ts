export {
  GatherContext,
  GATHER_CONTEXT_SETTINGS,
  type GatherContextSettings,
} from './gather-context.handler';
export { GatherContextWorker, GATHERER_CONCURRENCY } from './gather-context.worker';
export { extractMentions } from './mentions';

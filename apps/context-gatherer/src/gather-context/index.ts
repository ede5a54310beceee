export {
  GatherContext,
  GATHER_CONTEXT_SETTINGS,
  type GatherContextSettings,
} from './gather-context.handler';

export { SynthesizeEnhancement, SYNTHESIZER } from './synthesize-enhancement.handler';
export {
  SynthesizeEnhancementWorker,
  SYNTHESIZER_CONCURRENCY,
} from './synthesize-enhancement.worker';

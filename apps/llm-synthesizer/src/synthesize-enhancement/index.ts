export {
  SynthesizeEnhancement,
  SYNTHESIZER,
  LLM_PRICES,
  type LlmPrices,
} from './synthesize-enhancement.handler';
export {
  SynthesizeEnhancementWorker,
  SYNTHESIZER_CONCURRENCY,
} from './synthesize-enhancement.worker';

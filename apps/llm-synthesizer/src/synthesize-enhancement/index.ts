export {
  SynthesizeEnhancement,
  SYNTHESIZER,
  LLM_PRICES,
  type LlmPrices,
} from './synthesize-enhancement.handler';

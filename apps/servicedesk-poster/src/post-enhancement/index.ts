export {
  PostEnhancement,
  POSTER_CIPHER,
  POST_ENHANCEMENT_SETTINGS,
  type PostEnhancementSettings,
} from './post-enhancement.handler';
export { PostEnhancementWorker, POSTER_CONCURRENCY } from './post-enhancement.worker';
export { renderNote, jobMarker } from './render-note';

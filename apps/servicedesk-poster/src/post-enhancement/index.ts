export {
  PostEnhancement,
  POSTER_CIPHER,
  POST_ENHANCEMENT_SETTINGS,
  type PostEnhancementSettings,
} from './post-enhancement.handler';
export { renderNote, jobMarker } from './render-note';

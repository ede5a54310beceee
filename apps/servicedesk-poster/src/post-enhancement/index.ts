export {
  PostEnhancement,
  POSTER_CIPHER,
  POSTER_TOKEN_STORE,
  POST_ENHANCEMENT_SETTINGS,
  type PostEnhancementSettings,
} from './post-enhancement.handler';
export { renderNote, jobMarker } from './render-note';

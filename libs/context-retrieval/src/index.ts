export {
  ANY_WORD_QUERY,
  CONTEXT_QUERIES,
  findKbArticles,
  findMentionedSystems,
  findSimilarTickets,
  recordTicket,
  searchTextOf,
} from './context.repository';
export { extractMentions, type Mentions } from './mentions';

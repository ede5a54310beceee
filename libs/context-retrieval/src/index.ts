export {
  ANY_WORD_QUERY,
  CONTEXT_QUERIES,
  findKbArticles,
  findMentionedSystems,
  findOpenSimilarTickets,
  findSimilarTickets,
  indexPostingsBatch,
  recordTicket,
  recountRetrievalStats,
  reindexTicketHistoryBatch,
  searchInputOf,
  searchTextOf,
  CONFIDENT_RELEVANCE,
} from './context.repository';
export {
  cleanTicketText,
  detectTicketLanguage,
  indexedTextOf,
  type TicketLanguage,
} from './ticket-text';
export { extractMentions, type Mentions } from './mentions';

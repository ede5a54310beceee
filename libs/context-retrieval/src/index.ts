export {
  ANY_WORD_QUERY,
  CONTEXT_PARAMETERS,
  CONTEXT_QUERIES,
  findKbArticles,
  findMentionedSystems,
  findOpenSimilarTickets,
  findSimilarTickets,
  fillTermFrequencyBatch,
  indexPostingsBatch,
  recordTicket,
  recountRetrievalStats,
  reindexTicketHistoryBatch,
  searchInputOf,
  searchTextOf,
  CONFIDENT_RELEVANCE,
  FEEDBACK_BOOST,
  FINISHED_STATUSES,
  type SearchInput,
} from './context.repository';
export {
  cleanTicketText,
  detectTicketLanguage,
  indexedTextOf,
  storedTextOf,
  type TicketLanguage,
} from './ticket-text';
export { extractMentions, type Mentions } from './mentions';

import type { ContextSource } from '@tep/contracts';
import type { TenantTransaction } from '@tep/data';

/** One context source: its statements, and what the note gets without it. */
export interface SourceLookup<T> {
  source: ContextSource;
  /** Typed by the query: an empty literal is not a narrower type of its own. */
  empty: NoInfer<T>;
  query: (tx: TenantTransaction) => Promise<T>;
}

type Found<L extends readonly SourceLookup<unknown>[]> = {
  -readonly [K in keyof L]: L[K] extends { query: (tx: TenantTransaction) => Promise<infer T> }
    ? T
    : never;
};

/** The savepoint the caller sets before the sources, and `lookUpSources` rolls back to. */
export const SOURCES_SAVEPOINT = 'context_sources';

/**
 * Runs the enabled sources' statements all at once on the transaction's
 * connection (pipelined: one round trip for all, not one each), after
 * `ready` — the statements sent before them, ending with the savepoint.
 *
 * The sources only read. When one fails (a timeout, an error), PostgreSQL
 * aborts the transaction, so every statement sent behind it fails too
 * without running: its failure is reported (`onFailure`) and its result is
 * `empty`; the transaction is rolled back to the savepoint, which loses
 * nothing, and the sources behind it are sent again. Each source thus ends
 * as if they had run one after the other. A failure of `ready` is the
 * stage's own and is thrown.
 */
export async function lookUpSources<const L extends readonly SourceLookup<unknown>[]>(
  tx: TenantTransaction,
  ready: Promise<unknown>,
  lookups: L,
  handlers: {
    enabled: (source: ContextSource) => boolean;
    onFailure: (source: ContextSource, reason: string) => void;
  },
): Promise<Found<L>> {
  const found: unknown[] = lookups.map((l) => l.empty);
  let pending = lookups.flatMap((l, i) => (handlers.enabled(l.source) ? [i] : []));
  let before: Promise<unknown> = ready;
  while (pending.length > 0) {
    const sent = pending.map((i) => lookups[i].query(tx));
    const [prior, ...settled] = await Promise.allSettled([before, ...sent]);
    if (prior.status === 'rejected') throw prior.reason;
    const failed = settled.findIndex((r) => r.status === 'rejected');
    settled.slice(0, failed < 0 ? undefined : failed).forEach((r, k) => {
      if (r.status === 'fulfilled') found[pending[k]] = r.value;
    });
    if (failed < 0) break;
    const error: unknown = (settled[failed] as PromiseRejectedResult).reason;
    handlers.onFailure(
      lookups[pending[failed]].source,
      error instanceof Error ? error.message : String(error),
    );
    before = tx.query(`ROLLBACK TO SAVEPOINT ${SOURCES_SAVEPOINT}`);
    pending = pending.slice(failed + 1);
  }
  // A rollback sent after the last failure is awaited: the transaction goes on after it.
  await before;
  return found as Found<L>;
}

import { withStoreErrors } from './sql-errors.js';
import type { SqlExecutor } from './sql-executor.js';
import type { LedgerEventRow } from './ledger-sql.js';

export type { LedgerEventRow } from './ledger-sql.js';

/** The sealed end of the chain: its position and hash (position 0 and no hash when empty). */
export interface ChainHead {
  readonly pos: number;
  readonly hash: string | null;
  /** The `seq` of the head event (0 when empty). */
  readonly seq: number;
}

/** The chain columns to write on one event. */
export interface Seal {
  readonly seq: number;
  readonly pos: number;
  readonly prevHash: string;
  readonly hash: string;
}

/** The store's part of the hash chain (the SQL); the hashing is `broker/ledger/hash-chain.ts`. */
export interface LedgerChainStore {
  /**
   * In one transaction holding the ledger's seal lock: reads the chain head and up to `limit`
   * committed unsealed events (by `seq`), asks `compute` for their seals and writes them. With
   * `wait: false` it returns `{ busy: true }` at once when another session holds the lock.
   */
  sealNext(
    limit: number,
    wait: boolean,
    compute: (head: ChainHead, rows: readonly LedgerEventRow[]) => Seal[],
  ): Promise<{ sealed: number; busy: boolean }>;
  /** Sealed events with chain position > `afterPos`, in chain order, at most `limit`. */
  readChain(afterPos: number, limit: number): Promise<LedgerEventRow[]>;
  /** How many committed events are not sealed yet. */
  countUnsealed(): Promise<number>;
}

// Advisory lock namespace ("tpsl"); the second key is the schema, so each schema has its own sealer.
const LOCK_WAIT = 'SELECT pg_advisory_xact_lock(1953526636, hashtext(current_schema()))';
const LOCK_TRY = 'SELECT pg_try_advisory_xact_lock(1953526636, hashtext(current_schema())) AS locked';

/**
 * Creates the {@link LedgerChainStore} over a SQL executor. The seal lock is transaction-scoped, so
 * one sealer per database runs at a time across every replica, and a crashed sealer releases it.
 * Sealing only UPDATEs unsealed rows (which the append-only guard allows exactly once), so it never
 * blocks the INSERTs of issuance.
 */
export function createSqlChainStore(db: SqlExecutor): LedgerChainStore {
  return {
    sealNext: (limit, wait, compute) =>
      withStoreErrors(() =>
        db.transaction(async (tx) => {
          if (wait) await tx.query(LOCK_WAIT);
          else if (!(await tx.query<{ locked: boolean }>(LOCK_TRY)).rows[0]?.locked) {
            return { sealed: 0, busy: true };
          }
          const headRes = await tx.query<{ chain_pos: string | number; hash: string; seq: string | number }>(
            'SELECT chain_pos, hash, seq FROM ledger_events WHERE chain_pos IS NOT NULL ORDER BY chain_pos DESC LIMIT 1',
          );
          const h = headRes.rows[0];
          const head = h
            ? { pos: Number(h.chain_pos), hash: h.hash, seq: Number(h.seq) }
            : { pos: 0, hash: null, seq: 0 };
          const rows = await tx.query<LedgerEventRow>(
            'SELECT * FROM ledger_events WHERE chain_pos IS NULL ORDER BY seq LIMIT $1',
            [limit],
          );
          const seals = compute(head, rows.rows);
          if (seals.length === 0) return { sealed: 0, busy: false };
          await tx.query(
            `UPDATE ledger_events e SET chain_pos = v.pos, prev_hash = v.prev_hash, hash = v.hash
             FROM (SELECT unnest($1::bigint[]) AS seq, unnest($2::bigint[]) AS pos,
                          unnest($3::text[]) AS prev_hash, unnest($4::text[]) AS hash) v
             WHERE e.seq = v.seq`,
            [
              seals.map((s) => s.seq),
              seals.map((s) => s.pos),
              seals.map((s) => s.prevHash),
              seals.map((s) => s.hash),
            ],
          );
          return { sealed: seals.length, busy: false };
        }),
      ),
    readChain: (afterPos, limit) =>
      withStoreErrors(async () => {
        const res = await db.query<LedgerEventRow>(
          'SELECT * FROM ledger_events WHERE chain_pos > $1 ORDER BY chain_pos LIMIT $2',
          [afterPos, limit],
        );
        return res.rows;
      }),
    countUnsealed: () =>
      withStoreErrors(async () => {
        const res = await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM ledger_events WHERE chain_pos IS NULL',
        );
        return res.rows[0]?.n ?? 0;
      }),
  };
}

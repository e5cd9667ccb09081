/**
 * Tamper evidence for the ledger: a hash chain that does not serialize issuance.
 *
 * Design. Appending an event (in the same transaction as the state change it records) only
 * INSERTs a row with `chain_pos`, `prev_hash` and `hash` NULL, so concurrent issuances never wait on
 * each other for the chain. A sealer then takes committed unsealed events in `seq` order, gives each
 * the next chain position and `hash = sha256(prev_hash || "\n" || canonical(event))`, and writes the
 * batch in one transaction under a transaction-scoped advisory lock (one sealer per database across
 * replicas; PGlite is a single session anyway). Positions are assigned at seal time rather than
 * taken from `seq` because sequence values of rolled-back transactions leave permanent holes in
 * `seq`, and a late commit can carry a smaller `seq` than one already sealed: chain positions are
 * gap-free by construction, so any hole in them is a deleted row.
 *
 * `verifyChain` walks the chain by position and names the first bad event: a missing position (a
 * deleted row), a `prev_hash` that is not the previous event's hash (a reordered or reinserted row),
 * or a hash that does not match the row's content (an edited row). The migrations' append-only
 * guard refuses such edits in the first place; the chain detects them when the guard was bypassed.
 *
 * Limits: events are evidence only once sealed (run the sealer after commits and periodically), and
 * deleting the newest sealed events leaves a valid shorter chain — anchor {@link ChainOk.headHash}
 * outside the database (export, log, another system) to detect that.
 */
import { createHash } from 'node:crypto';
import type { ChainHead, LedgerChainStore, LedgerEventRow, Seal } from '../store/sql-chain-store.js';
import { canonicalJson } from './canonical-json.js';

/** The `prev_hash` of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The canonical text of one event at chain position `pos`: every content column with an explicit
 * type (integers as decimal strings, times as ISO-8601 UTC with milliseconds, absent values as
 * null, `details` as canonical JSON), under a version tag.
 *
 * @throws {TypeError} when `details` holds something that is not JSON (see {@link canonicalJson}).
 */
export function canonicalEvent(row: LedgerEventRow, pos: number): string {
  return canonicalJson({
    v: 'taskpass.ledger.v1',
    seq: String(row.seq),
    chain_pos: String(pos),
    occurred_at: row.occurred_at.toISOString(),
    type: row.type,
    workload: row.workload,
    task_id: row.task_id,
    credential_id: row.credential_id,
    provider: row.provider,
    decision: row.decision,
    reason: row.reason,
    rule: row.rule,
    details: row.details,
  });
}

/** `sha256(prevHash || "\n" || canonicalEvent(row, pos))`, lower-case hex. */
export function eventHash(prevHash: string, row: LedgerEventRow, pos: number): string {
  return createHash('sha256')
    .update(`${prevHash}\n${canonicalEvent(row, pos)}`, 'utf8')
    .digest('hex');
}

/** The seals that extend the chain from `head` over `rows` (already in `seq` order). */
export function sealRows(head: ChainHead, rows: readonly LedgerEventRow[]): Seal[] {
  let prevHash = head.hash ?? GENESIS_HASH;
  return rows.map((row, i) => {
    const pos = head.pos + i + 1;
    const hash = eventHash(prevHash, row, pos);
    const seal = { seq: Number(row.seq), pos, prevHash, hash };
    prevHash = hash;
    return seal;
  });
}

/** Seals the ledger. */
export interface LedgerSealer {
  /**
   * Seals every committed unsealed event, batch by batch. With `wait: false` (the default) it
   * returns at once with `busy: true` when another sealer holds the lock — that one will seal.
   */
  sealPending(opts?: { wait?: boolean }): Promise<{ sealed: number; busy: boolean }>;
  /**
   * Asks for a seal in the background after a commit; calls while one runs coalesce into one more
   * run. Errors go to `onError` (the events stay committed and are sealed by a later run).
   */
  notify(): void;
  /** Resolves when no background run is in flight. */
  idle(): Promise<void>;
}

/**
 * Creates a sealer over the store's chain part. It keeps no state beyond the in-flight background
 * run; the periodic run is the caller's (`app.ts` schedules `sealPending` with its timer seam).
 */
export function createLedgerSealer(deps: {
  chain: LedgerChainStore;
  batchSize?: number;
  onError?: (err: unknown) => void;
}): LedgerSealer {
  const batch = deps.batchSize ?? 500;
  let running: Promise<void> | undefined;
  let again = false;

  async function sealPending(opts: { wait?: boolean } = {}) {
    let sealed = 0;
    for (;;) {
      const r = await deps.chain.sealNext(batch, opts.wait ?? false, sealRows);
      sealed += r.sealed;
      if (r.busy) return { sealed, busy: true };
      if (r.sealed < batch) return { sealed, busy: false };
    }
  }

  return {
    sealPending,
    notify() {
      again = true;
      if (running) return;
      running = (async () => {
        while (again) {
          again = false;
          await sealPending().catch((err: unknown) => deps.onError?.(err));
        }
      })().finally(() => (running = undefined));
    },
    idle: () => running ?? Promise.resolve(),
  };
}

/** The chain verified. */
export interface ChainOk {
  readonly ok: true;
  /** Sealed events verified. */
  readonly events: number;
  /** The `seq` of the newest sealed event (0 for an empty chain). */
  readonly sealedThrough: number;
  /** The hash of the newest sealed event ({@link GENESIS_HASH} when empty): anchor it elsewhere. */
  readonly headHash: string;
  /** Committed events not sealed yet (not covered by this verification). */
  readonly unsealed: number;
}

/** The chain is broken at `firstBadSeq`. */
export interface ChainBroken {
  readonly ok: false;
  /** The first event that does not verify (for a deleted row: the one after the hole). */
  readonly firstBadSeq: number;
  readonly kind: 'missing_event' | 'broken_link' | 'content_changed' | 'unencodable';
  readonly reason: string;
  /** Events that verified before it. */
  readonly events: number;
}

/** The first problem of `row` at expected position `pos` after `prevHash`, if any. */
function checkRow(
  row: LedgerEventRow,
  pos: number,
  prevHash: string,
): Omit<ChainBroken, 'ok' | 'events'> | null {
  const seq = Number(row.seq);
  if (Number(row.chain_pos) !== pos) {
    return { firstBadSeq: seq, kind: 'missing_event', reason: `chain position ${pos} is missing` };
  }
  if (row.prev_hash !== prevHash) {
    return { firstBadSeq: seq, kind: 'broken_link', reason: 'prev_hash is not the previous event hash' };
  }
  let hash: string;
  try {
    hash = eventHash(prevHash, row, pos);
  } catch {
    return { firstBadSeq: seq, kind: 'unencodable', reason: 'event content is not canonical json' };
  }
  return hash === row.hash
    ? null
    : { firstBadSeq: seq, kind: 'content_changed', reason: 'hash does not match' };
}

/**
 * Walks the whole sealed chain, page by page, recomputing every hash.
 *
 * @throws {BrokerError} `BROKER_STORE_UNAVAILABLE` / `BROKER_STORE_QUERY_FAILED` from the store.
 */
export async function verifyChain(
  chain: LedgerChainStore,
  opts: { pageSize?: number } = {},
): Promise<ChainOk | ChainBroken> {
  const pageSize = opts.pageSize ?? 1000;
  let pos = 0;
  let prevHash = GENESIS_HASH;
  let sealedThrough = 0;
  for (;;) {
    const rows = await chain.readChain(pos, pageSize);
    for (const row of rows) {
      const problem = checkRow(row, pos + 1, prevHash);
      if (problem) return { ok: false, events: pos, ...problem };
      pos += 1;
      prevHash = row.hash as string;
      sealedThrough = Number(row.seq);
    }
    if (rows.length < pageSize) break;
  }
  return { ok: true, events: pos, sealedThrough, headHash: prevHash, unsealed: await chain.countUnsealed() };
}

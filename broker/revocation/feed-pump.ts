import type { Logger } from 'pino';
import {
  feedBlockers,
  readLedgerHead,
  readRevocationEvents,
  stillRunning,
  type RevocationEventRow,
} from '../store/revocation-events.js';
import type { SqlQueryable } from '../store/sql-executor.js';

/** What {@link createFeedPump} needs. */
export interface FeedPumpDeps {
  readonly db: SqlQueryable;
  readonly logger: Logger;
  /** Receives settled events, in `seq` order, each exactly once. */
  readonly deliver: (events: readonly RevocationEventRow[]) => void;
  /** Waits (the timer seam). */
  readonly sleep: (ms: number) => Promise<void>;
  /** How often to look again while a revocation writer is still open; default 5 ms. */
  readonly pollMs?: number;
  /** Events per read; default 500. */
  readonly batch?: number;
}

/** The replica's one reader of the ledger for the revocation feed. */
export interface FeedPump {
  /** Takes the current ledger head as the starting position, once no earlier event can still commit. */
  init(): Promise<void>;
  /** Asks for a read (a notification arrived, or the listener reconnected); reads are coalesced. */
  wake(): void;
  /** The settled position: every revocation event at or below it has been delivered or predates init. */
  position(): string;
  /** Resolves when no read is running. */
  idle(): Promise<void>;
  stop(): void;
}

const WARN_EVERY_MS = 5000;

/**
 * Creates the pump that turns ledger commits into feed events, in `seq` order and without gaps, so a
 * subscriber may resume from the last `seq` it saw and miss nothing.
 *
 * Order is the subtle part: a seq is drawn at insert and becomes visible at commit, so seq 11 can be
 * visible while seq 10 is still uncommitted. After each read the pump asks {@link feedBlockers} whether
 * any transaction of the read's snapshot may still commit an earlier revocation event; if so it waits
 * for those to end (polling their status) and reads the same range again before delivering. Only
 * transactions that inserted a revocation event wait on each other this way (the trigger marks them);
 * issuance and other writers never hold the feed back. On PGlite (one session) nothing is ever in
 * progress, so reads deliver at once.
 *
 * A failed read is retried with backoff; the position only moves after delivery, so nothing is lost.
 */
export function createFeedPump(deps: FeedPumpDeps): FeedPump {
  const pollMs = deps.pollMs ?? 5;
  const batch = deps.batch ?? 500;
  const log = deps.logger;
  let cursor = '0';
  let ready = false;
  let stopped = false;
  let again = false;
  let running: Promise<void> | undefined;

  async function waitForWriters(xids: readonly string[]): Promise<void> {
    let left = xids;
    let waited = 0;
    while (left.length > 0 && !stopped) {
      await deps.sleep(pollMs);
      waited += pollMs;
      if (waited % WARN_EVERY_MS < pollMs) {
        log.warn({ waiting_ms: waited, transactions: left.length }, 'revocation feed waits on open writers');
      }
      left = await stillRunning(deps.db, left);
    }
  }

  async function readRange(after: string, upTo: string): Promise<RevocationEventRow[]> {
    const out: RevocationEventRow[] = [];
    for (let from = after; ;) {
      const page = await readRevocationEvents(deps.db, { after: from, upTo, limit: batch });
      out.push(...page.events);
      if (page.events.length < batch) return out;
      from = page.events.at(-1)!.seq;
    }
  }

  async function pumpOnce(): Promise<void> {
    while (!stopped) {
      const first = await readRevocationEvents(deps.db, { after: cursor, limit: batch });
      const last = first.events.at(-1);
      if (last === undefined) return;
      let events = first.events;
      const blockers = await feedBlockers(deps.db, first.inProgress);
      if (blockers.running.length > 0 || blockers.committedSince) {
        await waitForWriters(blockers.running);
        if (stopped) return;
        events = await readRange(cursor, last.seq);
      }
      if (stopped) return;
      cursor = last.seq;
      deps.deliver(events);
    }
  }

  async function run(): Promise<void> {
    let failures = 0;
    do {
      again = false;
      try {
        await pumpOnce();
        failures = 0;
      } catch (err) {
        failures += 1;
        log.error({ err_code: (err as { code?: string }).code, failures }, 'revocation feed read failed');
        again = true;
        await deps.sleep(Math.min(5000, 50 * 2 ** Math.min(failures, 7)));
      }
    } while (again && !stopped);
  }

  function wake(): void {
    if (stopped || !ready) return;
    if (running) {
      again = true;
      return;
    }
    running = run().finally(() => {
      running = undefined;
    });
  }

  return {
    async init() {
      const head = await readLedgerHead(deps.db);
      const blockers = await feedBlockers(deps.db, head.inProgress);
      await waitForWriters(blockers.running);
      cursor = head.seq;
      ready = true;
      wake();
    },
    wake,
    position: () => cursor,
    idle: () => running ?? Promise.resolve(),
    stop() {
      stopped = true;
    },
  };
}

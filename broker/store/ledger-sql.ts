import { SpiffeId } from '../../spiffe/spiffe-id.js';
import type { JsonObject } from '../ledger/canonical-json.js';
import { decodeCursor, encodeCursor, pageLimit } from './cursor.js';
import type { AuditQuery, LedgerEvent, LedgerEventInput, LedgerEventType, Page } from './issuance-store.js';
import type { SqlQueryable } from './sql-executor.js';

/** The columns of `ledger_events` as both engines return them. */
export interface LedgerEventRow {
  seq: string | number;
  occurred_at: Date;
  type: string;
  workload: string | null;
  task_id: string | null;
  credential_id: string | null;
  provider: string | null;
  decision: string | null;
  reason: string | null;
  rule: string | null;
  details: JsonObject;
  chain_pos: string | number | null;
  prev_hash: string | null;
  hash: string | null;
}

/** The event columns, in insert order (without seq and the chain columns). */
const COLUMNS = [
  'occurred_at',
  'type',
  'workload',
  'task_id',
  'credential_id',
  'provider',
  'decision',
  'reason',
  'rule',
  'details',
] as const;

/** Maps a row to a {@link LedgerEvent}. */
export function toLedgerEvent(row: LedgerEventRow): LedgerEvent {
  return {
    seq: Number(row.seq),
    occurredAt: row.occurred_at,
    type: row.type as LedgerEventType,
    workload: row.workload === null ? null : SpiffeId.parse(row.workload),
    taskId: row.task_id,
    credentialId: row.credential_id,
    provider: row.provider,
    decision: row.decision as LedgerEvent['decision'],
    reason: row.reason,
    rule: row.rule,
    details: row.details,
    chainPos: row.chain_pos === null ? null : Number(row.chain_pos),
    hash: row.hash,
  };
}

function values(e: LedgerEventInput): unknown[] {
  return [
    e.occurredAt,
    e.type,
    e.workload?.toString() ?? null,
    e.taskId ?? null,
    e.credentialId ?? null,
    e.provider ?? null,
    e.decision ?? null,
    e.reason ?? null,
    e.rule ?? null,
    // Passed as text: pg would encode a top-level JS array as a Postgres array, not JSON.
    JSON.stringify(e.details ?? {}),
  ];
}

/**
 * Appends events in one multi-row INSERT inside the caller's transaction. Events are inserted
 * unsealed: the hash chain is built afterwards by the sealer, so appends never wait on each other.
 */
export async function insertEvents(
  tx: SqlQueryable,
  events: readonly LedgerEventInput[],
): Promise<LedgerEvent[]> {
  if (events.length === 0) return [];
  const params: unknown[] = [];
  const tuples = events.map((e) => {
    const placeholders = values(e).map((v) => `$${params.push(v)}`);
    placeholders[placeholders.length - 1] += '::text::jsonb';
    return `(${placeholders.join(', ')})`;
  });
  const res = await tx.query<LedgerEventRow>(
    `INSERT INTO ledger_events (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} RETURNING *`,
    params,
  );
  return res.rows.map(toLedgerEvent);
}

/** Runs an auditor query: filters AND-ed, keyset on `seq`, one extra row to know if a page follows. */
export async function selectEvents(db: SqlQueryable, q: AuditQuery): Promise<Page<LedgerEvent>> {
  const limit = pageLimit(q.limit);
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => where.push(sql.replace('?', `$${params.push(value)}`));
  if (q.workload) add('workload = ?', q.workload.toString());
  if (q.taskId) add('task_id = ?', q.taskId);
  if (q.credentialId) add('credential_id = ?', q.credentialId);
  if (q.provider) add('provider = ?', q.provider);
  if (q.types && q.types.length > 0) add('type = ANY(?::text[])', [...q.types]);
  if (q.from) add('occurred_at >= ?', q.from);
  if (q.to) add('occurred_at < ?', q.to);
  if (q.cursor) add('seq > ?', decodeCursor('e', q.cursor, ['number'])[0]);
  const res = await db.query<LedgerEventRow>(
    `SELECT * FROM ledger_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY seq LIMIT ${limit + 1}`,
    params,
  );
  const items = res.rows.slice(0, limit).map(toLedgerEvent);
  const last = items.at(-1);
  return { items, nextCursor: res.rows.length > limit && last ? encodeCursor('e', [last.seq]) : null };
}

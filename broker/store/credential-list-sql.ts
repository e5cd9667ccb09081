import { BrokerError } from '../errors.js';
import { decodeCursor, encodeCursor, pageLimit } from './cursor.js';
import type { Page } from './issuance-store.js';
import type { CredentialFilter, CredentialListing, QueueState } from './revocation-store.js';
import type { SqlQueryable } from './sql-executor.js';
import { isUuid, toCredential, type CredentialRow } from './task-rows.js';

interface ListingRow extends CredentialRow {
  q_state: QueueState | null;
  q_attempts: number | null;
  q_last_error: string | null;
  q_next_attempt_at: Date | null;
  q_outcome: 'revoked' | 'expired' | null;
}

function toListing(row: ListingRow): CredentialListing {
  return {
    ...toCredential(row),
    revocation:
      row.q_state === null
        ? null
        : {
            state: row.q_state,
            attempts: Number(row.q_attempts ?? 0),
            lastError: row.q_last_error,
            nextAttemptAt: row.q_state === 'done' ? null : row.q_next_attempt_at,
            outcome: row.q_outcome,
          },
  };
}

/**
 * Lists credentials newest first (keyset on `(issued_at, id)`) with their revocation queue row, for
 * operators. `status = 'revoke_failed'` reads the small partial index of failed revocations.
 *
 * @throws {BrokerError} `BROKER_LEDGER_BAD_CURSOR`, `BROKER_INPUT_INVALID` (limit).
 */
export async function listCredentialsQuery(
  db: SqlQueryable,
  filter: CredentialFilter,
): Promise<Page<CredentialListing>> {
  const limit = pageLimit(filter.limit);
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => where.push(sql.replace('?', `$${params.push(value)}`));
  if (filter.taskId !== undefined) {
    if (!isUuid(filter.taskId)) return { items: [], nextCursor: null };
    add('c.task_id = ?', filter.taskId);
  }
  if (filter.status) add('c.status = ?', filter.status);
  if (filter.provider) add('c.provider = ?', filter.provider);
  if (filter.cursor) {
    const [at, id] = decodeCursor('c', filter.cursor, ['string', 'string']) as [string, string];
    const date = new Date(at);
    if (Number.isNaN(date.getTime()) || !isUuid(id)) throw new BrokerError('BROKER_LEDGER_BAD_CURSOR');
    where.push(`(c.issued_at, c.id) < ($${params.push(date)}, $${params.push(id)}::uuid)`);
  }
  const res = await db.query<ListingRow>(
    `SELECT c.*, q.state AS q_state, q.attempts AS q_attempts, q.last_error AS q_last_error,
       q.next_attempt_at AS q_next_attempt_at, q.outcome AS q_outcome
     FROM credentials c LEFT JOIN revocation_queue q ON q.credential_id = c.id
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY c.issued_at DESC, c.id DESC LIMIT ${limit + 1}`,
    params,
  );
  const items = res.rows.slice(0, limit).map(toListing);
  const last = items.at(-1);
  const more = res.rows.length > limit && last;
  return { items, nextCursor: more ? encodeCursor('c', [last.issuedAt.toISOString(), last.id]) : null };
}

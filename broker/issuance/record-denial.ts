import type { Logger } from 'pino';
import type { SpiffeId } from '../../spiffe/spiffe-id.js';
import { BrokerError, type BrokerErrorCode } from '../errors.js';
import type { IssuanceStore } from '../store/issuance-store.js';
import { isUuid } from './id-source.js';

/** One refusal to write to the ledger: what was asked, which rule decided and why. */
export interface DenialRecord {
  readonly type: 'credential.denied' | 'task.denied';
  readonly now: Date;
  readonly workload: SpiffeId;
  readonly taskId?: string | undefined;
  readonly provider?: string | undefined;
  /** The public code the caller receives. */
  readonly code: BrokerErrorCode;
  /** The machine-readable class of the refusal (`scope_manifest`, `quota`, `rate`, `provider_failed`…). */
  readonly why: string;
  readonly reason: string;
  readonly rule?: string | undefined;
}

/**
 * Writes a denial event (ISSUE 3, Bad input and faults: "a denial event where the ledger is up") and
 * returns the error to give the caller. When the ledger is down the event is lost, which is logged;
 * the caller still gets the refusal, and nothing else changed (DESIGN invariant 5).
 */
export async function recordDenial(
  store: Pick<IssuanceStore, 'recordDenial'>,
  logger: Logger,
  denial: DenialRecord,
): Promise<void> {
  try {
    await store.recordDenial({
      type: denial.type,
      occurredAt: denial.now,
      workload: denial.workload,
      // The ledger column is a uuid: an id that is not one is kept in the details instead.
      taskId: denial.taskId !== undefined && isUuid(denial.taskId) ? denial.taskId : null,
      provider: denial.provider ?? null,
      reason: denial.reason,
      rule: denial.rule ?? null,
      details: {
        code: denial.code,
        why: denial.why,
        ...(denial.taskId !== undefined && !isUuid(denial.taskId)
          ? { task_ref: denial.taskId.slice(0, 64) }
          : {}),
      },
    });
  } catch (err) {
    const code = err instanceof BrokerError ? err.code : 'BROKER_INTERNAL';
    logger.warn({ err_code: code, spiffe_id: denial.workload.toString() }, 'denial event not recorded');
  }
}

import { BrokerError } from '../../broker/errors.js';
import { roleNameOf } from './config.js';
import { isSessionName } from './names.js';

/**
 * The revocation handle of an STS role session: the role, the session name (also its `taskpass:session`
 * tag, which the deny policy matches), the task, and AWS's expiration in epoch seconds. Nothing in it
 * is secret; it deliberately leaves out the access key id, which is part of the secret handed out (it
 * is in CloudTrail anyway, next to the session name).
 */
export type AwsStsHandle = {
  readonly role_arn: string;
  readonly session_name: string;
  readonly task_id: string;
  readonly expires_at: number;
};

/**
 * Validates a stored `aws-sts` handle.
 *
 * @throws {BrokerError} `BROKER_ADAPTER_BAD_HANDLE`.
 */
export function parseAwsStsHandle(raw: unknown): AwsStsHandle {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const { role_arn, session_name, task_id, expires_at } = raw as Record<string, unknown>;
    if (
      typeof role_arn === 'string' &&
      roleNameOf(role_arn) !== undefined &&
      typeof session_name === 'string' &&
      isSessionName(session_name) &&
      typeof task_id === 'string' &&
      task_id !== '' &&
      typeof expires_at === 'number' &&
      Number.isSafeInteger(expires_at) &&
      expires_at > 0
    ) {
      return Object.freeze({ role_arn, session_name, task_id, expires_at });
    }
  }
  throw new BrokerError(
    'BROKER_ADAPTER_BAD_HANDLE',
    'expected {role_arn, session_name, task_id, expires_at}',
  );
}

import { BrokerError } from '../../broker/errors.js';
import { checkIssueRequest, type IssueContext, type IssuedCredential } from '../credential-adapter.js';
import type { AwsBackend, AwsSessionCredentials, SessionTag } from './client.js';
import { STS_MIN_SESSION_SECONDS, type AwsStsConfig } from './config.js';
import type { AwsStsHandle } from './handle.js';
import {
  TAG_SESSION,
  TAG_TASK_ID,
  TAG_WORKLOAD,
  newSessionName,
  sourceIdentityOf,
  taskTagValue,
  workloadTagValue,
} from './names.js';
import { buildSessionPolicy } from './session-policy.js';
import type { WebIdentityTokenSigner } from './web-identity-token.js';

/** The session length for a broker TTL, and whether it had to be rounded up to STS's minimum. */
export interface SessionDuration {
  readonly seconds: number;
  readonly roundedUp: boolean;
}

/**
 * The `DurationSeconds` of a session: the broker's TTL, shortened to `max_ttl` (the role's
 * `MaxSessionDuration`; shorter is always allowed), and, below STS's 900 s minimum, refused or rounded
 * up as `short_ttl` says.
 *
 * @throws {BrokerError} `BROKER_ADAPTER_BAD_REQUEST` for a TTL under 900 s with `short_ttl: refuse`.
 */
export function sessionDuration(config: AwsStsConfig, ttlSeconds: number): SessionDuration {
  const seconds = Math.min(ttlSeconds, config.maxTtlSeconds);
  if (seconds >= STS_MIN_SESSION_SECONDS) return { seconds, roundedUp: false };
  if (config.shortTtl === 'round_up') return { seconds: STS_MIN_SESSION_SECONDS, roundedUp: true };
  throw new BrokerError(
    'BROKER_ADAPTER_BAD_REQUEST',
    `ttl ${seconds}s is under the sts minimum session of ${STS_MIN_SESSION_SECONDS}s (short_ttl: refuse)`,
  );
}

/** The session tags of a credential: task, workload and the session itself; none transitive. */
export function sessionTags(taskId: string, ctx: Pick<IssueContext<unknown>, 'workload'>, session: string) {
  const tags: readonly SessionTag[] = [
    { key: TAG_TASK_ID, value: taskTagValue(taskId) },
    { key: TAG_WORKLOAD, value: workloadTagValue(ctx.workload) },
    { key: TAG_SESSION, value: session },
  ];
  return tags;
}

/**
 * The secret handed to the workload: the JSON of the AWS CLI's `credential_process` output (`Version`
 * 1, `AccessKeyId`, `SecretAccessKey`, `SessionToken`, `Expiration` in ISO 8601), so a workload can
 * feed it to any AWS SDK as is.
 */
export function credentialProcessJson(creds: AwsSessionCredentials): string {
  return JSON.stringify({
    Version: 1,
    AccessKeyId: creds.accessKeyId,
    SecretAccessKey: creds.secretAccessKey,
    SessionToken: creds.sessionToken,
    Expiration: creds.expiration.toISOString(),
  });
}

/**
 * Mints one role session for one task: checks the request, builds the least-privilege session policy
 * from the granted scopes, then AssumeRole (keys) or AssumeRoleWithWebIdentity (a broker-signed token
 * carrying the tags and source identity). Nothing is created at AWS before the last call, so a refusal
 * leaves nothing behind. `expiresAt` is the earlier of AWS's expiration and `now` + the session length.
 *
 * @throws {BrokerError} `BROKER_ADAPTER_BAD_REQUEST` (request, scopes, TTL), `BROKER_ADAPTER_BACKEND_*`.
 */
export async function issueSession(
  ctx: IssueContext<AwsStsConfig>,
  backend: AwsBackend,
  signer: () => WebIdentityTokenSigner,
): Promise<IssuedCredential<AwsStsHandle>> {
  checkIssueRequest(ctx);
  const { config, now } = ctx;
  const policy = buildSessionPolicy(config.scopes, ctx.scopes);
  const duration = sessionDuration(config, ctx.ttlSeconds);
  const sessionName = newSessionName(ctx.taskId);
  const tags = sessionTags(ctx.taskId, ctx, sessionName);
  const sourceIdentity = sourceIdentityOf(ctx.workload);
  const common = { roleArn: config.roleArn, sessionName, durationSeconds: duration.seconds, policy };
  let creds: AwsSessionCredentials;
  if (config.auth.mode === 'keys') {
    creds = await backend.assumeRole({ ...common, tags, sourceIdentity });
  } else {
    const { audience } = config.auth;
    const subject = ctx.workload.toString();
    const token = await signer()({ audience, subject, now, sessionTags: tags, sourceIdentity });
    creds = await backend.assumeRoleWithWebIdentity({ ...common, token });
  }
  const expiresAt = new Date(Math.min(creds.expiration.getTime(), now.getTime() + duration.seconds * 1000));
  if (expiresAt.getTime() <= now.getTime()) {
    throw new BrokerError(
      'BROKER_ADAPTER_BACKEND_MALFORMED',
      'sts returned a session that has already expired',
    );
  }
  const handle: AwsStsHandle = Object.freeze({
    role_arn: config.roleArn,
    session_name: sessionName,
    task_id: ctx.taskId,
    expires_at: Math.ceil(creds.expiration.getTime() / 1000),
  });
  const roundedUp = duration.roundedUp
    ? { ttlRoundedUp: { requestedSeconds: ctx.ttlSeconds, minimumSeconds: STS_MIN_SESSION_SECONDS } }
    : {};
  return { secret: credentialProcessJson(creds), handle, expiresAt, renewable: false, ...roundedUp };
}

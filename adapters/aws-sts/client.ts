import {
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  STSClient,
  type Credentials,
} from '@aws-sdk/client-sts';
import { BrokerError } from '../../broker/errors.js';
import { awsErrorCode, translateAwsError } from './aws-errors.js';
import type { AwsStsConfig } from './config.js';

/** AWS credentials as the SDK takes them (static, or a provider it calls and caches until `expiration`). */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** A static credential set or an async provider of one. */
export type AwsCredentialsInput = AwsCredentials | (() => Promise<AwsCredentials>);

/** A role session's credentials, as STS returned them. */
export interface AwsSessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** When AWS stops honouring them (AWS's clock). */
  readonly expiration: Date;
}

/** An STS session tag. */
export interface SessionTag {
  readonly key: string;
  readonly value: string;
}

/** What both AssumeRole flavours take. */
interface SessionRequest {
  readonly roleArn: string;
  readonly sessionName: string;
  readonly durationSeconds: number;
  /** The inline session policy (JSON), or none (the management session only). */
  readonly policy: string | undefined;
}

/** AssumeRole with the broker's keys: tags and source identity are request parameters. */
export interface AssumeRoleRequest extends SessionRequest {
  readonly tags: readonly SessionTag[];
  readonly sourceIdentity: string;
}

/** AssumeRoleWithWebIdentity: tags and source identity travel inside the signed token. */
export interface AssumeRoleWithWebIdentityRequest extends SessionRequest {
  readonly token: string;
}

/** The STS and IAM calls the adapter makes; every failure is a translated {@link BrokerError}. */
export interface AwsBackend {
  assumeRole(req: AssumeRoleRequest): Promise<AwsSessionCredentials>;
  assumeRoleWithWebIdentity(req: AssumeRoleWithWebIdentityRequest): Promise<AwsSessionCredentials>;
  /** The role's inline policy document (as IAM returns it), or undefined when there is none by that name. */
  getRolePolicy(roleName: string, policyName: string): Promise<string | undefined>;
  putRolePolicy(roleName: string, policyName: string, document: string): Promise<void>;
  /** Deletes an inline policy; false when it was already gone. */
  deleteRolePolicy(roleName: string, policyName: string): Promise<boolean>;
  /** Every inline policy name of the role (all pages). */
  listRolePolicies(roleName: string): Promise<string[]>;
}

/** How {@link createAwsBackend} authenticates. */
export interface AwsBackendCredentials {
  /** For STS AssumeRole; undefined: the SDK's default chain (environment, shared files, instance role). */
  readonly sts: AwsCredentialsInput | undefined;
  /** For IAM; undefined: the SDK's default chain. */
  readonly iam: AwsCredentialsInput | undefined;
}

function sessionCredentials(c: Credentials | undefined, operation: string): AwsSessionCredentials {
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !(c.Expiration instanceof Date)) {
    throw new BrokerError(
      'BROKER_ADAPTER_BACKEND_MALFORMED',
      `${operation}: answer has no complete credentials`,
    );
  }
  return Object.freeze({
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  });
}

/**
 * Creates the STS and IAM clients of one provider (the only place the AWS SDK is imported). Every call
 * is bounded: a connection timeout, a per-attempt request timeout that throws (the SDK's default only
 * warns), `maxAttempts` attempts with the SDK's standard retry (throttling and transient errors), and
 * an overall deadline through an abort signal, so no call hangs. `endpoint` serves both STS and IAM
 * (moto, LocalStack); without it the SDK's regional STS and global IAM endpoints are used.
 */
export function createAwsBackend(config: AwsStsConfig, credentials: AwsBackendCredentials): AwsBackend {
  const common = {
    region: config.region,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    maxAttempts: config.maxAttempts,
    requestHandler: {
      connectionTimeout: Math.min(config.timeoutMs, 3000),
      requestTimeout: config.timeoutMs,
      throwOnRequestTimeout: true,
    },
  };
  const sts = new STSClient({ ...common, ...(credentials.sts ? { credentials: credentials.sts } : {}) });
  const iam = new IAMClient({ ...common, ...(credentials.iam ? { credentials: credentials.iam } : {}) });
  // Attempts × timeout, plus room for the SDK's backoff between attempts.
  const deadlineMs = config.timeoutMs * config.maxAttempts + 1000 * (config.maxAttempts - 1);

  async function call<T>(operation: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await run(AbortSignal.timeout(deadlineMs));
    } catch (err) {
      throw translateAwsError(err, operation);
    }
  }

  return Object.freeze({
    async assumeRole(req: AssumeRoleRequest) {
      const out = await call('sts:AssumeRole', (abortSignal) =>
        sts.send(
          new AssumeRoleCommand({
            RoleArn: req.roleArn,
            RoleSessionName: req.sessionName,
            DurationSeconds: req.durationSeconds,
            ...(req.policy === undefined ? {} : { Policy: req.policy }),
            Tags: req.tags.map((t) => ({ Key: t.key, Value: t.value })),
            // No TransitiveTagKeys: a chained session must not carry the task's identity onward.
            SourceIdentity: req.sourceIdentity,
          }),
          { abortSignal },
        ),
      );
      return sessionCredentials(out.Credentials, 'sts:AssumeRole');
    },
    async assumeRoleWithWebIdentity(req: AssumeRoleWithWebIdentityRequest) {
      const out = await call('sts:AssumeRoleWithWebIdentity', (abortSignal) =>
        sts.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: req.roleArn,
            RoleSessionName: req.sessionName,
            DurationSeconds: req.durationSeconds,
            ...(req.policy === undefined ? {} : { Policy: req.policy }),
            WebIdentityToken: req.token,
          }),
          { abortSignal },
        ),
      );
      return sessionCredentials(out.Credentials, 'sts:AssumeRoleWithWebIdentity');
    },
    async getRolePolicy(roleName: string, policyName: string) {
      try {
        const out = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }), {
          abortSignal: AbortSignal.timeout(deadlineMs),
        });
        return out.PolicyDocument;
      } catch (err) {
        if (awsErrorCode(err) === 'NoSuchEntity' || awsErrorCode(err) === 'NoSuchEntityException') {
          return undefined;
        }
        throw translateAwsError(err, 'iam:GetRolePolicy');
      }
    },
    async putRolePolicy(roleName: string, policyName: string, document: string) {
      await call('iam:PutRolePolicy', (abortSignal) =>
        iam.send(
          new PutRolePolicyCommand({ RoleName: roleName, PolicyName: policyName, PolicyDocument: document }),
          { abortSignal },
        ),
      );
    },
    async deleteRolePolicy(roleName: string, policyName: string) {
      try {
        await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }), {
          abortSignal: AbortSignal.timeout(deadlineMs),
        });
        return true;
      } catch (err) {
        if (awsErrorCode(err) === 'NoSuchEntity' || awsErrorCode(err) === 'NoSuchEntityException') {
          return false;
        }
        throw translateAwsError(err, 'iam:DeleteRolePolicy');
      }
    },
    async listRolePolicies(roleName: string) {
      const names: string[] = [];
      let marker: string | undefined;
      do {
        const out = await call('iam:ListRolePolicies', (abortSignal) =>
          iam.send(
            new ListRolePoliciesCommand({ RoleName: roleName, ...(marker ? { Marker: marker } : {}) }),
            {
              abortSignal,
            },
          ),
        );
        names.push(...(out.PolicyNames ?? []));
        marker = out.IsTruncated ? out.Marker : undefined;
      } while (marker !== undefined);
      return names;
    },
  });
}

import { CreateRoleCommand, GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { FakeClock } from '../../../fakes/fake-clock.js';

/** The account moto answers as. */
export const ACCOUNT = '123456789012';
/** Keys the broker uses against moto (moto accepts any, until IAM authorization is switched on). */
export const BROKER_KEYS = { accessKeyId: 'AKIATASKPASSBROKER01', secretAccessKey: 'x'.repeat(40) };
/** A fixed broker time, before moto's own clock, so AWS's expiration never bounds the tests' expiry. */
export const NOW = new Date('2025-03-01T12:00:00.000Z');

/** The trust policy a real deployment gives the role (keys mode): AssumeRole with tags and source identity. */
export const TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
    },
  ],
});

/** The provider configuration the suites start from (scopes of the contract suite included). */
export function baseConfig(endpoint: string, roleName = 'reports'): Record<string, unknown> {
  return {
    role_arn: `arn:aws:iam::${ACCOUNT}:role/${roleName}`,
    region: 'us-east-1',
    endpoint,
    max_attempts: 1,
    timeout: 2,
    scopes: {
      'tickets:read': { actions: ['s3:GetObject'], resources: ['arn:aws:s3:::tickets/*'] },
      'crm:write': {
        actions: ['dynamodb:PutItem'],
        resources: ['arn:aws:dynamodb:us-east-1:123456789012:table/crm'],
      },
      's3:read:reports': {
        actions: ['s3:GetObject', 's3:ListBucket'],
        resources: ['arn:aws:s3:::reports', 'arn:aws:s3:::reports/*'],
      },
    },
  };
}

/** An IAM client for inspecting moto from the tests. */
export function iamClient(endpoint: string): IAMClient {
  return new IAMClient({ region: 'us-east-1', endpoint, credentials: BROKER_KEYS, maxAttempts: 1 });
}

/** Creates the role the provider assumes. */
export async function createRole(endpoint: string, roleName = 'reports'): Promise<void> {
  await iamClient(endpoint).send(
    new CreateRoleCommand({
      RoleName: roleName,
      AssumeRolePolicyDocument: TRUST_POLICY,
      MaxSessionDuration: 3600,
    }),
  );
}

/** The decoded JSON of one of the role's inline policies, or undefined. */
export async function rolePolicy(endpoint: string, policyName: string, roleName = 'reports') {
  try {
    const out = await iamClient(endpoint).send(
      new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }),
    );
    return JSON.parse(decodeURIComponent(out.PolicyDocument ?? '')) as Record<string, unknown>;
  } catch (err) {
    if (
      (err as { name?: string }).name === 'NoSuchEntityException' ||
      (err as { name?: string }).name === 'NoSuchEntity'
    ) {
      return undefined;
    }
    throw err;
  }
}

/** Calls sts:GetCallerIdentity with the credentials of an issued secret (credential_process JSON). */
export async function callerIdentity(endpoint: string, secret: string) {
  const c = JSON.parse(secret) as { AccessKeyId: string; SecretAccessKey: string; SessionToken: string };
  const sts = new STSClient({
    region: 'us-east-1',
    endpoint,
    maxAttempts: 1,
    credentials: {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
    },
  });
  return sts.send(new GetCallerIdentityCommand({}));
}

/** A fake clock at {@link NOW}. */
export function fakeClock(): FakeClock {
  return new FakeClock(NOW);
}

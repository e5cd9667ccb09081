import { randomBytes } from 'node:crypto';
import { BrokerError } from '../../broker/errors.js';
import type { Clock } from '../../spiffe/clock.js';
import {
  createAwsBackend,
  type AwsBackend,
  type AwsCredentials,
  type AwsCredentialsInput,
} from './client.js';
import { STS_MIN_SESSION_SECONDS, type AwsStsConfig } from './config.js';
import type { WebIdentityTokenSigner } from './web-identity-token.js';

/** What the backends of `aws-sts` providers are built from. */
export interface AwsBackendDeps {
  readonly clock: Clock;
  /** Keys mode: the broker's AWS credentials; undefined: the SDK's default chain. */
  readonly credentials?: AwsCredentialsInput;
  /** Web-identity mode: signs the broker's OIDC tokens (the app signs with its keyring). */
  readonly webIdentityToken?: WebIdentityTokenSigner;
}

/** Web-identity mode never falls back to ambient keys: a call that would need them fails loudly. */
async function noKeys(): Promise<AwsCredentials> {
  throw new BrokerError(
    'BROKER_ADAPTER_BAD_CONFIG',
    'aws-sts web-identity mode has no aws keys for this call',
  );
}

/** The signer, or a config error naming what is missing. */
export function requireSigner(deps: AwsBackendDeps): WebIdentityTokenSigner {
  if (deps.webIdentityToken === undefined) {
    throw new BrokerError(
      'BROKER_ADAPTER_BAD_CONFIG',
      'aws-sts web-identity mode needs the broker token signer',
    );
  }
  return deps.webIdentityToken;
}

/**
 * The management credentials of web-identity mode: a session of `auth.manager_role_arn`, assumed with a
 * token whose `sub` is `auth.manager_subject`, for the IAM calls of deny-policy revocation. The SDK
 * caches what this returns until five minutes before `expiration` and then calls it again.
 */
function managerCredentials(config: AwsStsConfig, deps: AwsBackendDeps, backend: () => AwsBackend) {
  return async (): Promise<AwsCredentials> => {
    if (config.auth.mode !== 'web-identity' || config.auth.managerRoleArn === undefined) return noKeys();
    const { audience, managerRoleArn, managerSubject } = config.auth;
    const token = await requireSigner(deps)({ audience, subject: managerSubject, now: deps.clock.now() });
    const session = await backend().assumeRoleWithWebIdentity({
      roleArn: managerRoleArn,
      sessionName: `taskpass-manager-${randomBytes(6).toString('hex')}`,
      durationSeconds: STS_MIN_SESSION_SECONDS,
      policy: undefined,
      token,
    });
    return session;
  };
}

/** Builds one AWS backend per parsed config, lazily, and keeps it for the config's lifetime. */
export function createBackendCache(deps: AwsBackendDeps): (config: AwsStsConfig) => AwsBackend {
  const cache = new WeakMap<AwsStsConfig, AwsBackend>();
  return (config) => {
    let backend = cache.get(config);
    if (backend !== undefined) return backend;
    if (config.auth.mode === 'keys') {
      // A copy: the SDK annotates the credential object it is given (and a frozen one breaks it).
      const keys = typeof deps.credentials === 'object' ? { ...deps.credentials } : deps.credentials;
      backend = createAwsBackend(config, { sts: keys, iam: keys });
    } else {
      const self: AwsBackend = createAwsBackend(config, {
        sts: noKeys,
        iam: managerCredentials(config, deps, () => self),
      });
      backend = self;
    }
    cache.set(config, backend);
    return backend;
  };
}

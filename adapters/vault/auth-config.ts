import { ConfigReader } from '../config-reader.js';
import { AdapterConfigError } from '../credential-adapter.js';

/** How the broker logs in to Vault (its own identity there, not the workload's). */
export type VaultAuthConfig =
  | {
      /** A token read from a file (re-read at each login, so the file can be rotated). */
      readonly method: 'token';
      readonly tokenFile: string;
    }
  | {
      /** AppRole: `auth/<mount>/login` with a role id and a secret id read from a file. */
      readonly method: 'approle';
      readonly mount: string;
      readonly roleId: string | undefined;
      readonly roleIdFile: string | undefined;
      readonly secretIdFile: string;
    }
  | {
      /**
       * Vault's JWT auth method: `auth/<mount>/login` with `role` and the broker's own JWT-SVID for
       * `audience` (from the SPIRE agent or the development CA), or a JWT read from `jwtFile`.
       */
      readonly method: 'jwt';
      readonly mount: string;
      readonly role: string;
      readonly audience: string;
      readonly jwtFile: string | undefined;
    };

const METHODS = ['token', 'approle', 'jwt'] as const;
const KEYS: Record<(typeof METHODS)[number], readonly string[]> = {
  token: ['method', 'token_file'],
  approle: ['method', 'mount', 'role_id', 'role_id_file', 'secret_id_file'],
  jwt: ['method', 'mount', 'role', 'audience', 'jwt_file'],
};
/** An auth mount path: `jwt`, `spiffe-jwt`, `team/approle`. */
const MOUNT = /^[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+)*$/;

function optionalString(reader: ConfigReader, raw: Record<string, unknown>, key: string): string | undefined {
  return raw[key] === undefined ? undefined : reader.string(key);
}

function mount(reader: ConfigReader, raw: Record<string, unknown>, fallback: string): string {
  const value = optionalString(reader, raw, 'mount') ?? fallback;
  if (value !== '' && !MOUNT.test(value))
    reader.problem('mount: must be a mount path like jwt or team/approle');
  return value;
}

function parseMethod(
  reader: ConfigReader,
  raw: Record<string, unknown>,
  method: (typeof METHODS)[number],
  jwtSvidAvailable: boolean,
): VaultAuthConfig {
  if (method === 'token') return { method, tokenFile: reader.string('token_file') };
  if (method === 'approle') {
    const roleId = optionalString(reader, raw, 'role_id');
    const roleIdFile = optionalString(reader, raw, 'role_id_file');
    if ((roleId === undefined) === (roleIdFile === undefined)) {
      reader.problem('role_id: give exactly one of role_id and role_id_file');
    }
    const secretIdFile = reader.string('secret_id_file');
    return { method, mount: mount(reader, raw, 'approle'), roleId, roleIdFile, secretIdFile };
  }
  const jwtFile = optionalString(reader, raw, 'jwt_file');
  if (jwtFile === undefined && !jwtSvidAvailable) {
    reader.problem('jwt_file: required: this broker has no JWT-SVID source of its own');
  }
  const audience = optionalString(reader, raw, 'audience') ?? 'vault';
  return { method, mount: mount(reader, raw, 'jwt'), role: reader.string('role'), audience, jwtFile };
}

/**
 * Validates the `auth` block of a `vault` provider, prefixing each problem with `auth.`; returns the
 * problems instead of throwing, so the provider's parser can list them with its own.
 */
export function parseVaultAuthConfig(
  raw: unknown,
  jwtSvidAvailable: boolean,
): { auth: VaultAuthConfig | undefined; problems: string[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { auth: undefined, problems: ['auth: must be an object with a method (token, approle or jwt)'] };
  }
  const record = raw as Record<string, unknown>;
  const method = record['method'];
  if (typeof method !== 'string' || !(METHODS as readonly string[]).includes(method)) {
    return { auth: undefined, problems: [`auth.method: must be one of ${METHODS.join(', ')}`] };
  }
  const known = method as (typeof METHODS)[number];
  const reader = new ConfigReader(raw, KEYS[known]);
  const auth = parseMethod(reader, record, known, jwtSvidAvailable);
  try {
    return { auth: reader.finish(auth), problems: [] };
  } catch (err) {
    if (!(err instanceof AdapterConfigError)) throw err;
    return { auth: undefined, problems: err.problems.map((p) => `auth.${p}`) };
  }
}

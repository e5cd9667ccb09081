import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseEndpointAddress, type EndpointAddress } from '../spiffe/workload-api/endpoint-address.js';
import { TrustDomain } from '../spiffe/trust-domain.js';
import { BrokerError } from './errors.js';
import { parseRevocationSettings, type RevocationSettings } from './revocation/revocation-settings.js';

/** Where the broker keeps its state: a Postgres server, or embedded PGlite in the data directory. */
export type DatabaseConfig =
  { readonly kind: 'postgres'; readonly url: string } | { readonly kind: 'pglite'; readonly dataDir: string };

/** Where caller identities are verified from: a SPIRE agent (production) or the development CA. */
export type IdentityConfig =
  | { readonly mode: 'workload-api'; readonly endpoint: EndpointAddress; readonly address: string }
  | { readonly mode: 'dev-ca' };

/** The broker's configuration, parsed once at startup (EXAMPLES.md, Configuration). Deeply frozen. */
export interface BrokerConfig {
  readonly dataDir: string;
  readonly database: DatabaseConfig;
  readonly policyFile: string;
  readonly trustDomain: TrustDomain;
  /** The audience a caller's JWT-SVID must carry. */
  readonly audience: string;
  /** The broker's issuer URL: `iss` of task tokens and the OIDC discovery base. */
  readonly issuer: string;
  /** Provider name → `{kind, ...adapter fields}`; each adapter validates its own fields at build. */
  readonly providers: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly http: { readonly host: string; readonly port: number };
  /** The gRPC API: always on the Unix socket; on TCP with mutual TLS when `tcp` is set. */
  readonly grpc: {
    readonly socketPath: string;
    readonly tcp?: { readonly host: string; readonly port: number };
  };
  readonly identity: IdentityConfig;
  /**
   * The key-encryption key file (32 bytes; `TASKPASS_KEY_ENCRYPTION_KEY_FILE`). When set, the
   * task-token signing keys live in the database, sealed under it, and every replica shares them;
   * otherwise in `<data-dir>/task-tokens/` (one broker only).
   */
  readonly keyEncryptionKeyFile: string | undefined;
  /** Revocation retries and waits (`revocation:`; docs/revocation.md). */
  readonly revocation: RevocationSettings;
}

/** `BROKER_CONFIG_INVALID` listing every problem, each prefixed by the setting it concerns. */
export class ConfigInvalidError extends BrokerError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('BROKER_CONFIG_INVALID', problems.join('; '));
    this.problems = Object.freeze([...problems]);
  }
}

/** The inputs of {@link parseConfig}: the environment, the config file's parsed content, the cwd. */
export interface ConfigSources {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The config file's content (YAML or JSON), already parsed; absent without a file. */
  readonly file?: unknown;
  /** Relative paths resolve against it. */
  readonly cwd: string;
}

const FILE_KEYS = [
  'data_dir',
  'database_url',
  'policy_file',
  'trust_domain',
  'audience',
  'issuer',
  'providers',
  'http',
  'grpc',
  'spiffe_endpoint_socket',
  'revocation',
  'key_encryption_key_file',
];

/** Reads one setting: the environment wins over the file (12-factor), then the default. */
function setting(src: ConfigSources, file: Record<string, unknown>, env: string, key: string): unknown {
  return src.env[env] ?? file[key];
}

function str(value: unknown, where: string, problems: string[], fallback: string): string {
  if (value === undefined || value === '') return fallback;
  if (typeof value === 'string') return value;
  problems.push(`${where}: must be a string`);
  return fallback;
}

function port(value: unknown, problems: string[]): number {
  if (value === undefined || value === '') return 8443;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535) return n;
  problems.push('http.port (TASKPASS_HTTP_PORT): must be a port number 0..65535');
  return 8443;
}

/**
 * The gRPC TCP+mTLS listener: on when a port is given (`grpc.tcp.port` / `TASKPASS_GRPC_PORT`), on
 * `grpc.tcp.host` / `TASKPASS_GRPC_HOST` (default 127.0.0.1).
 */
function grpcTcp(
  src: ConfigSources,
  grpc: Record<string, unknown>,
  problems: string[],
): { host: string; port: number } | undefined {
  const tcp = sub(grpc, 'tcp');
  const rawPort = src.env['TASKPASS_GRPC_PORT'] ?? tcp['port'];
  const host = str(src.env['TASKPASS_GRPC_HOST'] ?? tcp['host'], 'grpc.tcp.host', problems, '127.0.0.1');
  if (rawPort === undefined || rawPort === '') return undefined;
  const n = typeof rawPort === 'string' ? Number(rawPort) : rawPort;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535) return { host, port: n };
  problems.push('grpc.tcp.port (TASKPASS_GRPC_PORT): must be a port number 0..65535');
  return undefined;
}

function trustDomain(value: string, problems: string[]): TrustDomain {
  try {
    return TrustDomain.parse(value);
  } catch {
    problems.push(
      `trust_domain (TASKPASS_TRUST_DOMAIN): ${JSON.stringify(value)} is not a trust domain name`,
    );
    return TrustDomain.parse('taskpass.local');
  }
}

function identity(address: string, problems: string[]): IdentityConfig {
  if (address === '') return { mode: 'dev-ca' };
  try {
    return { mode: 'workload-api', endpoint: parseEndpointAddress(address), address };
  } catch {
    problems.push('spiffe_endpoint_socket (SPIFFE_ENDPOINT_SOCKET): must be unix:///path or tcp://ip:port');
    return { mode: 'dev-ca' };
  }
}

function providers(value: unknown, issuer: string, problems: string[]): BrokerConfig['providers'] {
  // Development default: one broker-signed task token provider for the CRM API of the walk-through.
  if (value === undefined) return { 'crm-api': { kind: 'jwt', audience: 'crm-api', issuer } };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push('providers: must be a mapping of provider name to {kind, ...}');
    return {};
  }
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, raw] of Object.entries(value)) {
    if (
      typeof raw !== 'object' ||
      raw === null ||
      Array.isArray(raw) ||
      typeof (raw as { kind?: unknown }).kind !== 'string'
    ) {
      problems.push(`providers.${name}: must be a mapping with a string kind`);
      continue;
    }
    // A jwt provider's issuer defaults to the broker's, so a config names it once.
    const entry = raw as Record<string, unknown>;
    out[name] = Object.freeze(
      entry.kind === 'jwt' && entry.issuer === undefined ? { ...entry, issuer } : { ...entry },
    );
  }
  return Object.freeze(out);
}

function fileObject(file: unknown, problems: string[]): Record<string, unknown> {
  if (file === undefined || file === null) return {};
  if (typeof file !== 'object' || Array.isArray(file)) {
    problems.push('config file: must be a mapping');
    return {};
  }
  const obj = file as Record<string, unknown>;
  for (const key of Object.keys(obj)) if (!FILE_KEYS.includes(key)) problems.push(`${key}: unknown setting`);
  return obj;
}

function sub(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = obj[key];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/**
 * Parses the broker's configuration from the environment and an optional file, applying the
 * development defaults: data directory `./.taskpass`; embedded PGlite in `<data-dir>/pglite` unless
 * `DATABASE_URL`; policy `examples/policy.yaml`; trust domain `taskpass.local`; audience
 * `taskpass-broker`; HTTP on `127.0.0.1:8443`; gRPC on `<data-dir>/broker.sock` (and on TCP with
 * mutual TLS when a gRPC port is given); the development CA
 * unless `SPIFFE_ENDPOINT_SOCKET` names a SPIRE agent; one `jwt` provider `crm-api`. Environment:
 * `TASKPASS_DATA_DIR`, `DATABASE_URL`, `TASKPASS_POLICY_FILE`, `TASKPASS_TRUST_DOMAIN`,
 * `TASKPASS_AUDIENCE`, `TASKPASS_ISSUER`, `TASKPASS_HTTP_HOST`, `TASKPASS_HTTP_PORT`,
 * `TASKPASS_GRPC_SOCKET`, `TASKPASS_GRPC_HOST`, `TASKPASS_GRPC_PORT`, `SPIFFE_ENDPOINT_SOCKET`,
 * `TASKPASS_KEY_ENCRYPTION_KEY_FILE`; the
 * file uses the snake_case keys (`grpc: {socket, tcp: {host, port}}`).
 *
 * @throws {ConfigInvalidError} `BROKER_CONFIG_INVALID` listing every problem, not just the first.
 */
export function parseConfig(src: ConfigSources): BrokerConfig {
  const problems: string[] = [];
  const file = fileObject(src.file, problems);
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(src.cwd, p));
  const dataDir = path(
    str(setting(src, file, 'TASKPASS_DATA_DIR', 'data_dir'), 'data_dir', problems, './.taskpass'),
  );
  const url = str(setting(src, file, 'DATABASE_URL', 'database_url'), 'database_url', problems, '');
  if (url !== '' && !/^postgres(ql)?:\/\//.test(url))
    problems.push('database_url (DATABASE_URL): must be a postgres:// url');
  const http = sub(file, 'http');
  const host = str(src.env['TASKPASS_HTTP_HOST'] ?? http['host'], 'http.host', problems, '127.0.0.1');
  const httpPort = port(src.env['TASKPASS_HTTP_PORT'] ?? http['port'], problems);
  const issuer = str(
    setting(src, file, 'TASKPASS_ISSUER', 'issuer'),
    'issuer',
    problems,
    `http://${host}:${httpPort}`,
  );
  const grpcSocket = str(
    src.env['TASKPASS_GRPC_SOCKET'] ?? sub(file, 'grpc')['socket'],
    'grpc.socket',
    problems,
    '',
  );
  const tcp = grpcTcp(src, sub(file, 'grpc'), problems);
  const endpoint = str(
    setting(src, file, 'SPIFFE_ENDPOINT_SOCKET', 'spiffe_endpoint_socket'),
    'spiffe_endpoint_socket',
    problems,
    '',
  );
  const kekFile = str(
    setting(src, file, 'TASKPASS_KEY_ENCRYPTION_KEY_FILE', 'key_encryption_key_file'),
    'key_encryption_key_file',
    problems,
    '',
  );
  const config: BrokerConfig = {
    dataDir,
    database: url === '' ? { kind: 'pglite', dataDir: join(dataDir, 'pglite') } : { kind: 'postgres', url },
    policyFile: path(
      str(
        setting(src, file, 'TASKPASS_POLICY_FILE', 'policy_file'),
        'policy_file',
        problems,
        'examples/policy.yaml',
      ),
    ),
    trustDomain: trustDomain(
      str(
        setting(src, file, 'TASKPASS_TRUST_DOMAIN', 'trust_domain'),
        'trust_domain',
        problems,
        'taskpass.local',
      ),
      problems,
    ),
    audience: str(
      setting(src, file, 'TASKPASS_AUDIENCE', 'audience'),
      'audience',
      problems,
      'taskpass-broker',
    ),
    issuer,
    providers: providers(file['providers'], issuer, problems),
    http: { host, port: httpPort },
    grpc: {
      socketPath: grpcSocket === '' ? join(dataDir, 'broker.sock') : path(grpcSocket),
      ...(tcp !== undefined && { tcp }),
    },
    identity: identity(endpoint, problems),
    keyEncryptionKeyFile: kekFile === '' ? undefined : path(kekFile),
    revocation: parseRevocationSettings(file['revocation'], src.env, problems),
  };
  if (problems.length > 0) throw new ConfigInvalidError(problems);
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Reads the config file (`configPath`, else `TASKPASS_CONFIG`, else none) and parses everything with
 * {@link parseConfig}. Only `main.ts` and the CLI call this.
 *
 * @throws {ConfigInvalidError} for an unreadable or unparsable file, or any invalid setting.
 */
export async function loadConfig(opts: {
  env: ConfigSources['env'];
  cwd: string;
  configPath?: string;
}): Promise<BrokerConfig> {
  const file = opts.configPath ?? opts.env['TASKPASS_CONFIG'];
  if (file === undefined || file === '') return parseConfig({ env: opts.env, cwd: opts.cwd });
  let parsed: unknown;
  try {
    parsed = parseYaml(await readFile(resolve(opts.cwd, file), 'utf8'));
  } catch (err) {
    throw new BrokerError('BROKER_CONFIG_INVALID', `config file ${file} cannot be read or parsed`, {
      cause: err,
    });
  }
  return parseConfig({ env: opts.env, cwd: opts.cwd, file: parsed });
}

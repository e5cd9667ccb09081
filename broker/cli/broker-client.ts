import { isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import { BrokerApiError } from '../../client/api-error.js';
import type { TaskpassClient, TaskpassCredentials } from '../../client/client.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { BrokerError } from '../errors.js';
import { DEFAULT_AUDIENCE, DEFAULT_BROKER_URL } from './dev-defaults.js';
import { readCliFile } from './files.js';
import { AlreadyReported, writeError } from './output.js';
import type { CommandContext } from './program.js';

/** The options every broker command takes: where the broker is, and who the caller is. */
export interface BrokerFlags {
  broker?: string;
  socket?: string;
  audience?: string;
  jwtSvid?: string;
  cert?: string;
  key?: string;
  ca?: string;
  brokerId?: string;
  allowInsecureHttp?: boolean;
}

/** Adds the {@link BrokerFlags} options to a command. */
export function withBrokerFlags(cmd: Command): Command {
  return cmd
    .option('--broker <url>', `broker URL (default: $TASKPASS_BROKER_URL or ${DEFAULT_BROKER_URL})`)
    .option(
      '--socket <path>',
      'SPIFFE Workload API socket to get a JWT-SVID from (default: $SPIFFE_ENDPOINT_SOCKET)',
    )
    .option(
      '--audience <aud>',
      `the broker's JWT-SVID audience (default: $TASKPASS_AUDIENCE or ${DEFAULT_AUDIENCE})`,
    )
    .option('--jwt-svid <token-or-file>', 'a JWT-SVID for the broker, or a file holding one')
    .option('--cert <file>', 'X509-SVID chain (PEM) for mTLS to an https broker')
    .option('--key <file>', 'private key (PEM) of --cert')
    .option('--ca <file>', 'PEM roots that authenticate an https broker by its X509-SVID')
    .option(
      '--broker-id <spiffe-id>',
      "with --ca: the broker's SPIFFE ID (default: any in your X509-SVID's trust domain)",
    )
    .option('--allow-insecure-http', 'send the SVID over plain http to a host that is not loopback');
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** True when `arg` is a compact JWS whose header decodes to a JSON object, rather than a file name. */
function isCompactJws(arg: string): boolean {
  if (!COMPACT_JWS.test(arg)) return false;
  return Buffer.from(arg.split('.')[0]!, 'base64url').toString('utf8').trimStart().startsWith('{');
}

/**
 * A token given on the command line: the argument itself when it is a compact JWS, otherwise the
 * trimmed content of the file it names (which keeps the token out of `ps` and the shell history).
 *
 * @throws {BrokerError} `BROKER_CLI_FILE_UNREADABLE`.
 */
export async function readTokenArg(arg: string): Promise<string> {
  return isCompactJws(arg) ? arg : (await readCliFile(arg)).toString('utf8').trim();
}

/** A Workload API address as given, or a relative socket path made absolute. */
function socketAddress(socket: string): string {
  return /^(unix|tcp):/.test(socket) || isAbsolute(socket) ? socket : resolve(socket);
}

interface Identity {
  readonly credentials: TaskpassCredentials;
  readonly close: () => void;
}

/**
 * The caller's identity from the flags: `--jwt-svid`, else `--cert`/`--key`, else a JWT-SVID for the
 * audience from the Workload API (`--socket`, else `SPIFFE_ENDPOINT_SOCKET`).
 *
 * @throws {BrokerError} `BROKER_CLI_USAGE` for conflicting flags; `BROKER_AUTH_MISSING` when none is
 *   given; `BROKER_CLI_FILE_UNREADABLE`.
 */
async function identityOf(flags: BrokerFlags, ctx: CommandContext): Promise<Identity> {
  const none = (): void => undefined;
  const x509 = flags.cert !== undefined || flags.key !== undefined;
  if (flags.jwtSvid !== undefined) {
    if (x509) throw new BrokerError('BROKER_CLI_USAGE', 'give --jwt-svid or --cert/--key, not both');
    return { credentials: { jwtSvid: await readTokenArg(flags.jwtSvid) }, close: none };
  }
  if (x509) {
    if (flags.cert === undefined || flags.key === undefined)
      throw new BrokerError('BROKER_CLI_USAGE', '--cert and --key go together');
    const [cert, key] = await Promise.all([readCliFile(flags.cert), readCliFile(flags.key)]);
    return { credentials: { x509: { cert, key } }, close: none };
  }
  const socket = flags.socket ?? ctx.env['SPIFFE_ENDPOINT_SOCKET'];
  if (socket === undefined || socket === '') {
    throw new BrokerError(
      'BROKER_AUTH_MISSING',
      'give --jwt-svid, --socket (or SPIFFE_ENDPOINT_SOCKET), or --cert and --key',
    );
  }
  // Loaded on use, as the client below: the Workload API client pulls in gRPC (CLI start-up time).
  const { createWorkloadApiJwtSource } = await import('../../client/workload-api-jwt-source.js');
  const source = createWorkloadApiJwtSource({
    socketPath: socketAddress(socket),
    audience: flags.audience ?? ctx.env['TASKPASS_AUDIENCE'] ?? DEFAULT_AUDIENCE,
    clock: ctx.clock,
  });
  return { credentials: { jwtSvid: () => source.token() }, close: () => source.close() };
}

/**
 * Runs `action` with a client of the broker the flags name, as the identity they give. A refusal by
 * the broker is printed with its code unchanged (JSON with `--json`) and the process exits with the
 * catalog's status; the Workload API connection, if any, is closed in every case.
 */
export async function withBroker(
  flags: BrokerFlags,
  ctx: CommandContext,
  action: (client: TaskpassClient) => Promise<void>,
): Promise<void> {
  if (flags.brokerId !== undefined && flags.ca === undefined)
    throw new BrokerError('BROKER_CLI_USAGE', '--broker-id needs --ca');
  const serverId = flags.brokerId === undefined ? undefined : SpiffeId.parse(flags.brokerId);
  const ca = flags.ca === undefined ? undefined : await readCliFile(flags.ca);
  const identity = await identityOf(flags, ctx);
  try {
    const { createTaskpassClient } = await import('../../client/client.js');
    const client = createTaskpassClient({
      baseUrl: flags.broker ?? ctx.env['TASKPASS_BROKER_URL'] ?? DEFAULT_BROKER_URL,
      credentials: identity.credentials,
      tls: { ...(ca && { ca }), ...(serverId && { serverId }) },
      allowInsecureHttp: flags.allowInsecureHttp === true,
    });
    await action(client);
  } catch (err) {
    if (!(err instanceof BrokerApiError)) throw err;
    writeError(ctx.io, ctx.json(), { error: { code: err.code, message: err.message } });
    throw new AlreadyReported(err.exitCode);
  } finally {
    identity.close();
  }
}

/** Collects a repeatable option's values (`--scope a --scope b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * A positive integer flag such as `--limit`.
 *
 * @throws {BrokerError} `BROKER_CLI_USAGE` naming the flag.
 */
export function positiveInt(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/.test(text))
    throw new BrokerError('BROKER_CLI_USAGE', `${flag} takes a positive integer`);
  return Number(text);
}

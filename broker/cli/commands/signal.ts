import { Option, type Command } from 'commander';
import type { SignalRequest, SignalSeverity } from '../../../client/types.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { BrokerError } from '../../errors.js';
import { withBroker, withBrokerFlags, type BrokerFlags } from '../broker-client.js';
import { readCliFile } from '../files.js';
import type { CommandContext } from '../program.js';

interface SignalFlags extends BrokerFlags {
  task?: string;
  workload?: string;
  kind?: string;
  severity?: SignalSeverity;
  description?: string;
  evidence?: string;
  occurredAt?: string;
  set?: string;
}

const SEVERITIES: readonly SignalSeverity[] = ['low', 'medium', 'high', 'critical'];
const usage = (detail: string): BrokerError => new BrokerError('BROKER_CLI_USAGE', detail);

/** `--evidence JSON`: a JSON object. @throws {BrokerError} `BROKER_CLI_USAGE`. */
function evidenceOf(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw usage('--evidence takes a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw usage('--evidence takes a JSON object');
  return value as Record<string, unknown>;
}

/**
 * The signal the flags describe.
 *
 * @throws {BrokerError} `BROKER_CLI_USAGE` unless exactly one subject, a kind and a severity are given;
 *   {@link SpiffeError} for a bad `--workload`.
 */
function signalOf(flags: SignalFlags): SignalRequest {
  if ((flags.task === undefined) === (flags.workload === undefined))
    throw usage('give exactly one of --task, --workload (or --set FILE)');
  if (flags.kind === undefined) throw usage('--kind is required');
  if (flags.severity === undefined) throw usage(`--severity is required (${SEVERITIES.join(', ')})`);
  return {
    kind: flags.kind,
    severity: flags.severity,
    subject:
      flags.task !== undefined
        ? { task_id: flags.task }
        : { workload: SpiffeId.parse(flags.workload!).toString() },
    ...(flags.description !== undefined && { description: flags.description }),
    ...(flags.evidence !== undefined && { evidence: evidenceOf(flags.evidence) }),
    ...(flags.occurredAt !== undefined && { occurred_at: flags.occurredAt }),
  };
}

/**
 * `taskpass signal (--task ID | --workload SPIFFE_ID) --kind K --severity S [--description T]
 * [--evidence JSON]` and `taskpass signal --set FILE` (detectors): reports an anomaly
 * (`POST /v1/signals`), or pushes a Security Event Token (RFC 8417) signed by the caller, as RFC 8935
 * delivers it. Prints what the broker did: the signal id, the response the policy chose and what it
 * revoked or quarantined.
 */
export function registerSignalCommand(program: Command, ctx: CommandContext): void {
  withBrokerFlags(
    program
      .command('signal')
      .description(
        'report an anomaly about a task or a workload, or push a Security Event Token (as a detector)',
      )
      .option('--task <id>', 'the task the signal is about')
      .option('--workload <spiffe-id>', 'the workload the signal is about (every task it has)')
      .option('--kind <kind>', 'what was seen, e.g. prompt_injection (1..64 of a-z 0-9 _ . -)')
      .addOption(new Option('--severity <severity>', 'how bad it is').choices(SEVERITIES))
      .option('--description <text>', 'what happened, for the ledger')
      .option('--evidence <json>', 'a small JSON object for the ledger (never a secret)')
      .option('--occurred-at <rfc3339>', 'when it happened (default: when the broker receives it)')
      .option('--set <file>', 'push the Security Event Token (compact JWS) in this file instead'),
  ).action(async (flags: SignalFlags) => {
    if (flags.set !== undefined) {
      const other = [flags.task, flags.workload, flags.kind, flags.severity, flags.description];
      if ([...other, flags.evidence, flags.occurredAt].some((v) => v !== undefined))
        throw usage('--set takes no other signal flag: the token says it all');
      const set = (await readCliFile(flags.set)).toString('utf8').trim();
      return withBroker(flags, ctx, async (client) => ctx.result({ ...(await client.deliverSet(set)) }));
    }
    const signal = signalOf(flags);
    return withBroker(flags, ctx, async (client) => ctx.result({ ...(await client.submitSignal(signal)) }));
  });
}

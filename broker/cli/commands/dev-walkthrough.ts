import type { SpiffeId } from '../../../spiffe/spiffe-id.js';
import type { BrokerConfig } from '../../config.js';

/** What {@link devWalkthrough} needs to know about the running `taskpass dev`. */
export interface WalkthroughOptions {
  /** The compiled CLI entry (`dist/broker/cli/main.js`). */
  readonly cli: string;
  /** The broker's HTTP base URL as bound. */
  readonly broker: string;
  readonly config: BrokerConfig;
  /** The development workload identity (operator and auditor in `examples/policy.yaml`). */
  readonly identity: SpiffeId;
  /** The development Workload API address. */
  readonly socket: string;
}

/**
 * What `taskpass dev` prints after it starts: a copy-paste walk-through of one task from start to
 * revocation, in POSIX shell with the `taskpass` CLI (its identity from the Workload API socket),
 * plus `curl` for what a resource server asks (introspection) and `node` to pick JSON members (no jq).
 * Each step prints the broker's answer.
 */
export function devWalkthrough(opts: WalkthroughOptions): string {
  const { config } = opts;
  const auth = '-H "authorization: Bearer $SVID"';
  const introspect = `curl -sS $TASKPASS_BROKER_URL/oauth2/introspect ${auth} --data-urlencode "token=$TOKEN"; echo`;
  const start = 'taskpass task start --intent summarize-ticket';
  return `
taskpass dev is running: broker ${opts.broker} (API docs ${opts.broker}/docs),
Workload API ${opts.socket}. Stop with Ctrl-C. In another terminal, paste:

  taskpass() { node ${opts.cli} "$@"; }
  pick() { node -pe "JSON.parse(require('fs').readFileSync(0, 'utf8'))$1"; }
  export TASKPASS_BROKER_URL=${opts.broker}
  # the CLI proves who it is with a JWT-SVID for ${config.audience} from the Workload API socket
  export SPIFFE_ENDPOINT_SOCKET=${opts.socket}

  # 1. start a task: what it is for, and the providers and scopes it will need
  TASK=$(${start} --text 'summarise ticket 123' \\
    --manifest crm-api:crm:read --ttl 10m --json | pick .id); echo "task $TASK"

  # 2. a task-scoped credential: a crm-api token, its issuance in the ledger before you see it
  TOKEN=$(taskpass credential issue --task $TASK --provider crm-api --scope crm:read)

  # 3. what the CRM API would ask the broker (RFC 7662): active, with its scope and task
  SVID=$(taskpass svid mint --data-dir ${config.dataDir} --trust-domain ${config.trustDomain.name} \\
    --id ${opts.identity} --jwt --audience ${config.audience} --ttl 10m --json | pick .token)
  ${introspect}

  # 4. complete the task: every credential it minted is revoked
  taskpass task complete $TASK

  # 5. the same token is now inactive, and the task gets no more credentials
  ${introspect}
  taskpass credential issue --task $TASK --provider crm-api --scope crm:read

  # 6. as an operator: live tasks, and a revocation now (also --credential, --workload, --selector)
  T2=$(${start} --manifest crm-api:crm:read --json | pick .id)
  taskpass credential issue --task $T2 --provider crm-api --scope crm:read >/dev/null
  taskpass tasks ls --status active
  taskpass revoke --task $T2 --reason 'suspicious tool output'

  # 7. as an auditor, the ledger: who got what, when, why, and when it died (--format csv for CSV)
  taskpass audit query --task $TASK

  # 8. prove nobody edited it: the hash chain verifies
  taskpass audit verify

Any SPIFFE Workload API client (go-spiffe, \`spire-agent api fetch -socketPath ${opts.socket.replace(/^unix:\/\//, '')}\`)
gets ${opts.identity} from the socket. Edit ${config.policyFile} and send SIGHUP to reload it.
`;
}

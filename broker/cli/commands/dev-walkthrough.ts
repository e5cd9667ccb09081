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
 * revocation, in POSIX shell with only `curl` and `node` (no jq). Each step prints the broker's answer.
 */
export function devWalkthrough(opts: WalkthroughOptions): string {
  const { config } = opts;
  const auth = '-H "authorization: Bearer $SVID"';
  const json = "-H 'content-type: application/json'";
  const task =
    '{"intent":{"name":"summarize-ticket","text":"summarise ticket 123"},' +
    '"manifest":[{"provider":"crm-api","scopes":["crm:read"]}],"ttl_seconds":600}';
  return `
taskpass dev is running: broker ${opts.broker} (API docs ${opts.broker}/docs),
Workload API ${opts.socket}. Stop with Ctrl-C. In another terminal, paste:

  taskpass() { node ${opts.cli} "$@"; }
  pick() { node -pe "JSON.parse(require('fs').readFileSync(0, 'utf8'))$1"; }
  BROKER=${opts.broker}

  # 1. a JWT-SVID for the broker's audience, from the development CA
  SVID=$(taskpass svid mint --data-dir ${config.dataDir} --trust-domain ${config.trustDomain.name} \\
    --id ${opts.identity} --jwt --audience ${config.audience} --ttl 10m --json | pick .token)

  # 2. start a task: what it is for, and the providers and scopes it will need
  RES=$(curl -sS $BROKER/v1/tasks ${auth} ${json} \\
    -d '${task}'); echo "$RES"
  TASK=$(echo "$RES" | pick .id)

  # 3. a task-scoped credential: a crm-api token, its issuance in the ledger before you see it
  RES=$(curl -sS $BROKER/v1/tasks/$TASK/credentials ${auth} ${json} \\
    -d '{"provider":"crm-api","scopes":["crm:read"]}'); echo "$RES"
  TOKEN=$(echo "$RES" | pick .secret)

  # 4. what the CRM API would ask the broker (RFC 7662): active, with its scope and task
  curl -sS $BROKER/oauth2/introspect ${auth} --data-urlencode "token=$TOKEN"; echo

  # 5. complete the task: every credential it minted is revoked
  curl -sS -X POST $BROKER/v1/tasks/$TASK/complete ${auth}; echo

  # 6. the same token is now inactive, and the task gets no more credentials
  curl -sS $BROKER/oauth2/introspect ${auth} --data-urlencode "token=$TOKEN"; echo
  curl -sS $BROKER/v1/tasks/$TASK/credentials ${auth} ${json} \\
    -d '{"provider":"crm-api","scopes":["crm:read"]}'; echo

  # 7. the ledger: who got what, when, why, and when it died (add -H 'accept: text/csv' for CSV)
  curl -sS "$BROKER/v1/audit/events?task_id=$TASK" ${auth}; echo

  # 8. prove nobody edited it: the hash chain verifies
  curl -sS $BROKER/v1/audit/verify ${auth}; echo

Any SPIFFE Workload API client (go-spiffe, \`spire-agent api fetch -socketPath ${opts.socket.replace(/^unix:\/\//, '')}\`)
gets ${opts.identity} from the socket. Edit ${config.policyFile} and send SIGHUP to reload it.
`;
}

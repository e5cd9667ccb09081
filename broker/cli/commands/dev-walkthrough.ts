import type { TrustDomain } from '../../../spiffe/trust-domain.js';

/** What `taskpass dev` prints after it starts: where things are, and commands to paste. */
export function devWalkthrough(opts: {
  cli: string;
  socket: string;
  trustDomain: TrustDomain;
  dataDir: string;
  bundleFiles: { spiffe: string; pem: string };
}): string {
  const id = `${opts.trustDomain.idString}/agents/demo`;
  return `
taskpass dev is running. In another terminal, paste:

  alias taskpass='node ${opts.cli}'
  export SPIFFE_ENDPOINT_SOCKET=${opts.socket}

  # an identity value: which rule would a malformed one break?
  taskpass id parse ${id}
  taskpass id parse ${opts.trustDomain.idString}/agents/../root

  # mint an X509-SVID from the development CA and verify it against the bundle
  taskpass svid mint --data-dir ${opts.dataDir} --id ${id} --x509 --out /tmp/taskpass-demo --ttl 10m
  taskpass svid verify --bundle ${opts.bundleFiles.pem} --x509 /tmp/taskpass-demo/svid.0.pem

  # a JWT-SVID for audience "demo": verifies for that audience only
  TOKEN=$(taskpass svid mint --data-dir ${opts.dataDir} --id ${id} --jwt --audience demo --json | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')
  taskpass svid verify --bundle ${opts.bundleFiles.spiffe} --jwt "$TOKEN" --audience demo
  taskpass svid verify --bundle ${opts.bundleFiles.spiffe} --jwt "$TOKEN" --audience other   # SPIFFE_JWT_AUDIENCE_MISMATCH

Any SPIFFE Workload API client (go-spiffe, SPIRE's \`spire-agent api fetch -socketPath ${opts.socket.replace(/^unix:\/\//, '')}\`)
gets this machine's development identity from the socket. Stop with Ctrl-C.
`;
}

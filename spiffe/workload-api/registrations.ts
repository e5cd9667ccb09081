import { isSpiffeError, SpiffeError } from '../errors.js';
import { SpiffeId } from '../spiffe-id.js';
import type { TrustDomain } from '../trust-domain.js';
import type { PeerCredentials } from './peer-credentials.js';

/**
 * Unix selectors, as SPIRE's `unix` workload attestor names them (`unix:uid`, `unix:gid`). Every
 * selector given must match; an entry needs at least one.
 */
export interface UnixSelectors {
  readonly uid?: number;
  readonly gid?: number;
}

/** An identity a caller can be issued (the `hint` is the spec's operator hint, §5.3). */
export interface WorkloadIdentity {
  readonly spiffeId: SpiffeId;
  readonly hint?: string;
}

/** A registration entry: callers whose attested credentials match `selectors` get `spiffeId`. */
export interface RegistrationEntry extends WorkloadIdentity {
  readonly selectors: UnixSelectors;
}

/**
 * The registration entries of a Workload API server, plus an optional default identity: a development
 * convenience given to every caller that matches no entry (including callers whose credentials could
 * not be learned). Leave it unset in production, where identity must come from attestation only.
 */
export interface Registrations {
  readonly entries: readonly RegistrationEntry[];
  readonly default?: WorkloadIdentity;
}

/** The longest hint accepted (Workload API spec §5.3: implementations SHOULD NOT support more than 1024 bytes). */
export const MAX_HINT_BYTES = 1024;

/**
 * Validates registrations and freezes them. When `trustDomain` is given, every SPIFFE ID must belong to
 * it (the server's CA can only issue there).
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_BAD_REGISTRATION` listing every problem found.
 */
export function createRegistrations(init: Registrations, trustDomain?: TrustDomain): Registrations {
  const problems: string[] = [];
  init.entries.forEach((entry, i) => problems.push(...checkEntry(entry, `entries[${i}]`, trustDomain)));
  if (init.default) problems.push(...checkIdentity(init.default, 'default', trustDomain));
  if (problems.length > 0) throw new SpiffeError('SPIFFE_WORKLOAD_BAD_REGISTRATION', problems.join('; '));
  const entries = Object.freeze(
    init.entries.map((e) => Object.freeze({ ...e, selectors: Object.freeze({ ...e.selectors }) })),
  );
  return Object.freeze(init.default ? { entries, default: Object.freeze({ ...init.default }) } : { entries });
}

function checkEntry(entry: RegistrationEntry, where: string, td?: TrustDomain): string[] {
  const problems = checkIdentity(entry, where, td);
  const { uid, gid } = entry.selectors ?? {};
  if (uid === undefined && gid === undefined) problems.push(`${where}: needs a uid or gid selector`);
  if (uid !== undefined && !isUnixId(uid)) problems.push(`${where}: uid must be a non-negative integer`);
  if (gid !== undefined && !isUnixId(gid)) problems.push(`${where}: gid must be a non-negative integer`);
  return problems;
}

function checkIdentity(identity: WorkloadIdentity, where: string, td?: TrustDomain): string[] {
  const problems: string[] = [];
  if (!(identity.spiffeId instanceof SpiffeId)) problems.push(`${where}: spiffeId must be a parsed SpiffeId`);
  else if (td && !identity.spiffeId.memberOf(td))
    problems.push(`${where}: ${identity.spiffeId} is not in ${td.name}`);
  if (identity.hint !== undefined && Buffer.byteLength(identity.hint) > MAX_HINT_BYTES) {
    problems.push(`${where}: hint is longer than ${MAX_HINT_BYTES} bytes`);
  }
  return problems;
}

function isUnixId(n: unknown): boolean {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= 0xffffffff;
}

/**
 * Parses registrations from configuration JSON:
 * `{ "entries": [{ "spiffeId": "spiffe://td/x", "selectors": { "uid": 1000 }, "hint": "internal" }],
 *    "default": { "spiffeId": "spiffe://td/dev" } }` (`default` may also be a bare SPIFFE ID string).
 *
 * @throws {SpiffeError} `SPIFFE_WORKLOAD_BAD_REGISTRATION` listing every problem found.
 */
export function parseRegistrations(raw: unknown, trustDomain?: TrustDomain): Registrations {
  const doc = (raw ?? {}) as { entries?: unknown; default?: unknown };
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new SpiffeError('SPIFFE_WORKLOAD_BAD_REGISTRATION', 'not an object');
  const problems: string[] = [];
  const entriesRaw = doc.entries ?? [];
  if (!Array.isArray(entriesRaw))
    throw new SpiffeError('SPIFFE_WORKLOAD_BAD_REGISTRATION', 'entries must be an array');
  const entries = entriesRaw.map((e: unknown, i) => {
    const o = (e ?? {}) as { spiffeId?: unknown; selectors?: UnixSelectors; hint?: unknown };
    const spiffeId = parseIdField(o.spiffeId, `entries[${i}]`, problems);
    return { spiffeId, selectors: { ...(o.selectors ?? {}) }, ...hintField(o.hint) } as RegistrationEntry;
  });
  let def: WorkloadIdentity | undefined;
  if (doc.default !== undefined) {
    const o = (typeof doc.default === 'string' ? { spiffeId: doc.default } : doc.default) as {
      spiffeId?: unknown;
      hint?: unknown;
    };
    def = {
      spiffeId: parseIdField(o?.spiffeId, 'default', problems),
      ...hintField(o?.hint),
    } as WorkloadIdentity;
  }
  if (problems.length > 0) throw new SpiffeError('SPIFFE_WORKLOAD_BAD_REGISTRATION', problems.join('; '));
  return createRegistrations(def ? { entries, default: def } : { entries }, trustDomain);
}

function parseIdField(value: unknown, where: string, problems: string[]): SpiffeId | undefined {
  if (typeof value !== 'string') {
    problems.push(`${where}: spiffeId must be a string`);
    return undefined;
  }
  try {
    return SpiffeId.parse(value);
  } catch (err) {
    problems.push(`${where}: ${isSpiffeError(err) ? err.code : 'invalid spiffe id'}`);
    return undefined;
  }
}

function hintField(hint: unknown): { hint?: string } {
  return typeof hint === 'string' && hint.length > 0 ? { hint } : {};
}

/**
 * The identities a caller is entitled to: every entry whose selectors all match its credentials, in
 * entry order (the first is the default identity, Workload API spec §5.3), without duplicate SPIFFE IDs;
 * when none match — or the caller could not be attested — the default identity if configured; else none.
 * A hint already used by an earlier identity is dropped, since hints must be unique in a response (§5.2.1).
 */
export function matchRegistrations(
  registrations: Registrations,
  peer: PeerCredentials | undefined,
): WorkloadIdentity[] {
  const matched = peer ? registrations.entries.filter((e) => selectorsMatch(e.selectors, peer)) : [];
  const candidates: WorkloadIdentity[] =
    matched.length > 0 ? matched : registrations.default ? [registrations.default] : [];
  const seenIds = new Set<string>();
  const seenHints = new Set<string>();
  const out: WorkloadIdentity[] = [];
  for (const c of candidates) {
    const id = c.spiffeId.toString();
    if (seenIds.has(id)) continue;
    seenIds.add(id);
    const hint = c.hint !== undefined && !seenHints.has(c.hint) ? c.hint : undefined;
    if (hint !== undefined) seenHints.add(hint);
    out.push(hint !== undefined ? { spiffeId: c.spiffeId, hint } : { spiffeId: c.spiffeId });
  }
  return out;
}

function selectorsMatch(selectors: UnixSelectors, peer: PeerCredentials): boolean {
  if (selectors.uid === undefined && selectors.gid === undefined) return false;
  if (selectors.uid !== undefined && selectors.uid !== peer.uid) return false;
  if (selectors.gid !== undefined && selectors.gid !== peer.gid) return false;
  return true;
}

import {
  createFakeAdapter,
  type FakeAdapter,
  type FakeConfig,
  type FakeHandle,
} from '../../adapters/fake/index.js';
import type { CredentialAdapter, HandleContext, Revocability } from '../../adapters/credential-adapter.js';

/**
 * The fake adapter with a revocation log (how many times each credential was revoked: the
 * "never double work" check), a switch to make revokes hang (a backend that never answers, or a
 * process killed mid-call), and a chosen revocability (`expires-only` providers never revoke).
 */
export interface RecordingAdapter extends CredentialAdapter<FakeConfig, FakeHandle> {
  /** The in-memory backend underneath, with its failure injection (`failNextWith(err, 'revoke')`). */
  readonly fake: FakeAdapter;
  /** Revoke calls per backend credential id (each call, including failed ones). */
  revokeCalls(): ReadonlyMap<string, number>;
  /** Revoke calls that reached the backend and succeeded, per id. */
  revokedTimes(): ReadonlyMap<string, number>;
  /** Makes every revoke hang until the returned function is called (then they proceed). */
  hangRevokes(): () => void;
}

/** Creates a recording adapter of `kind` with a fresh backend. */
export function createRecordingAdapter(
  kind: string,
  revocability: Revocability = 'revocable',
): RecordingAdapter {
  const fake = createFakeAdapter(kind);
  const calls = new Map<string, number>();
  const done = new Map<string, number>();
  let gate: Promise<void> | undefined;
  const bump = (m: Map<string, number>, id: string) => m.set(id, (m.get(id) ?? 0) + 1);
  return {
    kind,
    revocability,
    fake,
    parseConfig: (raw) => fake.parseConfig(raw),
    parseHandle: (raw) => fake.parseHandle(raw),
    issue: (ctx) => fake.issue(ctx),
    async revoke(ctx: HandleContext<FakeConfig, FakeHandle>) {
      bump(calls, ctx.handle.id);
      if (gate) await gate;
      await fake.revoke(ctx);
      bump(done, ctx.handle.id);
    },
    verifyRevoked: (ctx) => fake.verifyRevoked(ctx),
    revokeCalls: () => new Map(calls),
    revokedTimes: () => new Map(done),
    hangRevokes() {
      let release: () => void = () => undefined;
      gate = new Promise<void>((resolve) => {
        release = () => {
          gate = undefined;
          resolve();
        };
      });
      return release;
    },
  };
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpiffeId } from '../spiffe/spiffe-id.js';
import {
  hashSecret,
  type CredentialAdapter,
  type IssueContext,
  type IssuedCredential,
  type JsonObject,
} from './credential-adapter.js';

/** One adapter instance ready for a contract test, over a fresh backend. */
export interface ContractFixture<Config, Handle extends JsonObject> {
  readonly adapter: CredentialAdapter<Config, Handle>;
  readonly config: Config;
  readonly now: Date;
  /**
   * What the broker does once `revoke` succeeded, for adapters whose revocation list is the broker's
   * own state (the `jwt` provider); omitted for adapters that revoke at their backend.
   */
  recordRevocation?(handle: Handle): Promise<void>;
  /** Releases the backend (servers, connections). */
  close?(): Promise<void>;
}

/** A raw configuration the adapter must reject, and how many problems it must list. */
export interface InvalidConfigCase {
  readonly name: string;
  readonly raw: unknown;
  readonly problems: number;
}

/** How the contract suite reaches one adapter (Vault's `TestStorage` takes a backend the same way). */
export interface ContractHarness<Config, Handle extends JsonObject> {
  /** Shown in test names. */
  readonly name: string;
  /** A fresh fixture per test. */
  setup(): Promise<ContractFixture<Config, Handle>>;
  readonly validConfig: unknown;
  readonly invalidConfigs: readonly InvalidConfigCase[];
  /** The TTL the suite requests (default 300 s); at or above the backend's minimum. */
  readonly ttlSeconds?: number;
  /**
   * The secret material inside a composite secret, which must stay out of the handle (default: the
   * whole secret). A `postgres-role` connection string names its role, which the handle must name too;
   * its password is what may not appear.
   */
  secretMaterial?(secret: string): string;
}

const WORKLOAD = SpiffeId.parse('spiffe://contract.test/agent/summariser');
const WINDOW = 12;

async function withFixture<C, H extends JsonObject>(
  harness: ContractHarness<C, H>,
  body: (f: ContractFixture<C, H>, request: IssueContext<C>) => Promise<void>,
): Promise<void> {
  const fixture = await harness.setup();
  const request: IssueContext<C> = {
    config: fixture.config,
    taskId: 'task-contract-1',
    workload: WORKLOAD,
    scopes: ['tickets:read', 'crm:write'],
    ttlSeconds: harness.ttlSeconds ?? 300,
    now: fixture.now,
  };
  try {
    await body(fixture, request);
  } finally {
    await fixture.close?.();
  }
}

/** Asserts that no `WINDOW`-character piece of `secret` appears in the handle's JSON. */
function assertSecretAbsent(secret: string, handle: JsonObject): void {
  const json = JSON.stringify(handle);
  assert.ok(!json.includes(secret), 'handle contains the secret');
  for (let i = 0; i + WINDOW <= secret.length; i++) {
    assert.ok(!json.includes(secret.slice(i, i + WINDOW)), `handle contains part of the secret at ${i}`);
  }
}

async function revokeFully<C, H extends JsonObject>(f: ContractFixture<C, H>, issued: IssuedCredential<H>) {
  await f.adapter.revoke({ config: f.config, handle: issued.handle, now: f.now });
  await f.recordRevocation?.(issued.handle);
}

async function assertCode(promise: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  const run = typeof promise === 'function' ? async () => promise() : () => promise;
  await assert.rejects(run, (err: { code?: string }) => {
    assert.equal(err.code, code);
    return true;
  });
}

/**
 * Registers the credential adapter contract as node:test cases: every adapter, the fake and the
 * built-in `jwt` provider included, must pass it unchanged.
 */
export function runCredentialAdapterContract<C, H extends JsonObject>(harness: ContractHarness<C, H>): void {
  describe(`credential adapter contract: ${harness.name}`, () => {
    describeConfig(harness);
    describeIssue(harness);
    describeRevoke(harness);
    describeRenew(harness);
  });
}

function describeConfig<C, H extends JsonObject>(harness: ContractHarness<C, H>): void {
  it('declares a kind and a revocability', () =>
    withFixture(harness, async ({ adapter }) => {
      assert.match(adapter.kind, /^[a-z][a-z0-9-]*$/);
      assert.ok(['revocable', 'expires-only'].includes(adapter.revocability));
    }));
  it('accepts its valid configuration', () =>
    withFixture(harness, async ({ adapter }) => void adapter.parseConfig(harness.validConfig)));
  for (const c of harness.invalidConfigs) {
    it(`rejects a bad configuration listing every problem: ${c.name}`, () =>
      withFixture(harness, async ({ adapter }) => {
        assert.throws(
          () => adapter.parseConfig(c.raw),
          (err: { code?: string; problems?: readonly string[] }) => {
            assert.equal(err.code, 'BROKER_ADAPTER_BAD_CONFIG');
            assert.equal(err.problems?.length, c.problems, JSON.stringify(err.problems));
            return true;
          },
        );
      }));
  }
  it('rejects a malformed stored handle with a code', () =>
    withFixture(harness, async ({ adapter }) => {
      for (const raw of [null, 'handle', 42, [], {}]) {
        await assertCode(() => adapter.parseHandle(raw), 'BROKER_ADAPTER_BAD_HANDLE');
      }
    }));
}

function describeIssue<C, H extends JsonObject>(harness: ContractHarness<C, H>): void {
  it('issues a secret that appears nowhere in the JSON of its handle', () =>
    withFixture(harness, async ({ adapter }, request) => {
      const issued = await adapter.issue(request);
      assert.equal(typeof issued.secret, 'string');
      assert.ok(issued.secret.length >= 16);
      assertSecretAbsent(harness.secretMaterial?.(issued.secret) ?? issued.secret, issued.handle);
      if (issued.secretHash !== undefined) assert.equal(issued.secretHash, hashSecret(issued.secret));
    }));
  it('issues a handle that survives a JSON round trip through parseHandle', () =>
    withFixture(harness, async ({ adapter }, request) => {
      const { handle } = await adapter.issue(request);
      assert.deepEqual(adapter.parseHandle(JSON.parse(JSON.stringify(handle))), handle);
    }));
  it('honours the ttl: expires after now and no later than now + ttl', () =>
    withFixture(harness, async ({ adapter }, request) => {
      const { expiresAt } = await adapter.issue(request);
      assert.ok(expiresAt.getTime() > request.now.getTime());
      assert.ok(expiresAt.getTime() <= request.now.getTime() + request.ttlSeconds * 1000);
    }));
  it('issues distinct secrets and handles each time', () =>
    withFixture(harness, async ({ adapter }, request) => {
      const [a, b] = await Promise.all([adapter.issue(request), adapter.issue(request)]);
      assert.notEqual(a.secret, b.secret);
      assert.notDeepEqual(a.handle, b.handle);
    }));
  const badRequests: [string, Partial<IssueContext<C>>][] = [
    ['zero ttl', { ttlSeconds: 0 }],
    ['negative ttl', { ttlSeconds: -5 }],
    ['fractional ttl', { ttlSeconds: 1.5 }],
    ['scope with a space', { scopes: ['a b'] }],
    ['empty scope', { scopes: [''] }],
    ['duplicate scopes', { scopes: ['a', 'a'] }],
    ['empty task id', { taskId: '' }],
  ];
  for (const [name, change] of badRequests) {
    it(`refuses to issue with a code: ${name}`, () =>
      withFixture(harness, async ({ adapter }, request) => {
        await assertCode(adapter.issue({ ...request, ...change }), 'BROKER_ADAPTER_BAD_REQUEST');
      }));
  }
}

function describeRevoke<C, H extends JsonObject>(harness: ContractHarness<C, H>): void {
  it('revokes so that verifyRevoked confirms it (revocable adapters), and not before', () =>
    withFixture(harness, async (f, request) => {
      const issued = await f.adapter.issue(request);
      const ctx = { config: f.config, handle: issued.handle, now: f.now };
      if (f.adapter.revocability !== 'revocable') return void (await f.adapter.revoke(ctx));
      assert.equal((await f.adapter.verifyRevoked(ctx)).confirmed, false);
      await revokeFully(f, issued);
      const check = await f.adapter.verifyRevoked(ctx);
      assert.equal(check.confirmed, true, check.detail);
      assert.equal(typeof check.detail, 'string');
    }));
  it('revokes idempotently', () =>
    withFixture(harness, async (f, request) => {
      const issued = await f.adapter.issue(request);
      await revokeFully(f, issued);
      await revokeFully(f, issued);
      const check = await f.adapter.verifyRevoked({ config: f.config, handle: issued.handle, now: f.now });
      if (f.adapter.revocability === 'revocable') assert.equal(check.confirmed, true, check.detail);
    }));
  it('revokes one credential without touching another', () =>
    withFixture(harness, async (f, request) => {
      if (f.adapter.revocability !== 'revocable') return;
      const [a, b] = await Promise.all([f.adapter.issue(request), f.adapter.issue(request)]);
      await revokeFully(f, a);
      const check = await f.adapter.verifyRevoked({ config: f.config, handle: b.handle, now: f.now });
      assert.equal(check.confirmed, false, check.detail);
    }));
}

function describeRenew<C, H extends JsonObject>(harness: ContractHarness<C, H>): void {
  it('renews a renewable credential within the new ttl, or refuses with a code', () =>
    withFixture(harness, async (f, request) => {
      const issued = await f.adapter.issue(request);
      const later = new Date(f.now.getTime() + 60_000);
      const ctx = { config: f.config, handle: issued.handle, now: later, ttlSeconds: request.ttlSeconds };
      if (f.adapter.renew === undefined) return assert.equal(issued.renewable, false);
      if (!issued.renewable) return assertCode(f.adapter.renew(ctx), 'BROKER_ADAPTER_RENEW_UNSUPPORTED');
      const renewed = await f.adapter.renew(ctx);
      assert.ok(renewed.expiresAt.getTime() > later.getTime());
      assert.ok(renewed.expiresAt.getTime() <= later.getTime() + request.ttlSeconds * 1000);
      assert.deepEqual(f.adapter.parseHandle(JSON.parse(JSON.stringify(renewed.handle))), renewed.handle);
    }));
}

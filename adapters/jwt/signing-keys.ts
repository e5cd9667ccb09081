import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { BrokerError } from '../../broker/errors.js';
import { AdapterConfigError } from '../credential-adapter.js';
import { JWT_MAX_TTL_LIMIT_SECONDS, type TaskTokenAlgorithm } from './config.js';
import type { StoredTaskTokenKey, TaskTokenKeyStore } from './key-store.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** A public signing key as published in the JWKS: key members plus `kid`, `alg` and `use: "sig"`. */
export interface TaskTokenPublicJwk extends JWK {
  readonly kid: string;
  readonly alg: TaskTokenAlgorithm;
  readonly use: 'sig';
}

/** The JWK Set (RFC 7517 §5) served at `/.well-known/jwks.json`: public keys only. */
export interface TaskTokenJwks {
  readonly keys: readonly TaskTokenPublicJwk[];
}

/** A key that signs task tokens. */
export interface TaskTokenSigningKey {
  /** RFC 7638 SHA-256 thumbprint of the public key: the same key always has the same id. */
  readonly kid: string;
  readonly alg: TaskTokenAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicJwk: TaskTokenPublicJwk;
}

/** Options of {@link TaskTokenKeyring.open}. */
export interface TaskTokenKeyringOptions {
  readonly store: TaskTokenKeyStore;
  /** Algorithms to keep a current key for (default `['ES256']`): one per algorithm the providers use. */
  readonly algorithms?: readonly TaskTokenAlgorithm[];
  /** How long a key signs before a successor replaces it (default 24h). */
  readonly rotationIntervalSeconds?: number;
  /**
   * How long a replaced key stays published (default 24h, the longest task-token TTL). Tokens live no
   * longer than this, so every token in flight at a rotation still verifies until it expires.
   */
  readonly overlapSeconds?: number;
  /** The time of opening: a missing or due key is created at once. */
  readonly now: Date;
}

interface KeyEntry {
  readonly stored: StoredTaskTokenKey;
  readonly key: TaskTokenSigningKey;
  readonly createdAt: number;
  readonly retiredAt: number | undefined;
}

const DAY = 86400;

/**
 * The broker's task-token signing keys: a current key per algorithm plus the previous ones still in
 * their overlap window. Rotation happens on a schedule (the interval), checked whenever a key is asked
 * for and by {@link TaskTokenKeyring.rotateIfDue}, with time always passed in. Every change is saved to
 * the store before it takes effect, so a key never signs unless it survives a restart.
 */
export class TaskTokenKeyring {
  readonly algorithms: readonly TaskTokenAlgorithm[];
  readonly rotationIntervalSeconds: number;
  readonly overlapSeconds: number;
  readonly #store: TaskTokenKeyStore;
  #entries: readonly KeyEntry[] = [];
  /** The shared store's revision the entries came from (0 when none stored; unused otherwise). */
  #revision = 0;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(opts: TaskTokenKeyringOptions) {
    this.#store = opts.store;
    const algorithms: readonly TaskTokenAlgorithm[] = opts.algorithms ?? ['ES256'];
    this.algorithms = Object.freeze([...new Set(algorithms)]);
    this.rotationIntervalSeconds = opts.rotationIntervalSeconds ?? DAY;
    this.overlapSeconds = opts.overlapSeconds ?? JWT_MAX_TTL_LIMIT_SECONDS;
  }

  /**
   * Loads the keys from `opts.store` and creates or rotates what is missing or due at `opts.now`.
   *
   * @throws {AdapterConfigError} `BROKER_ADAPTER_BAD_CONFIG` for bad intervals or no algorithm.
   * @throws {BrokerError} `BROKER_ADAPTER_KEY_STORE` when stored keys are unreadable or inconsistent.
   */
  static async open(opts: TaskTokenKeyringOptions): Promise<TaskTokenKeyring> {
    const keyring = new TaskTokenKeyring(opts);
    const problems: string[] = [];
    const positive = (n: number): boolean => Number.isSafeInteger(n) && n > 0;
    if (!positive(keyring.rotationIntervalSeconds))
      problems.push('rotation_interval: must be positive seconds');
    if (!positive(keyring.overlapSeconds)) problems.push('overlap: must be positive seconds');
    if (keyring.algorithms.length === 0) problems.push('algorithms: must name at least one algorithm');
    if (problems.length > 0) throw new AdapterConfigError(problems);
    if (opts.store.shared) {
      await keyring.#adopt((await opts.store.shared.loadVersioned()) ?? { keys: [], revision: 0 });
    } else {
      const stored = (await opts.store.load()) ?? [];
      keyring.#entries = Object.freeze(await Promise.all(stored.map(restoreEntry)));
    }
    await keyring.rotateIfDue(opts.now);
    return keyring;
  }

  /**
   * Creates a key for each algorithm without a current one or whose current key is older than the
   * interval (retiring the old one now), and forgets keys whose overlap has passed. Saves, then swaps.
   * Concurrent calls are serialized. Resolves to whether anything changed.
   *
   * @throws {BrokerError} `BROKER_ADAPTER_KEY_STORE` when the store cannot save (nothing changes then).
   */
  rotateIfDue(now: Date): Promise<boolean> {
    const run = this.#queue.then(() => this.#rotate(now.getTime()));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Re-reads a shared store and adopts the key set when another replica changed it (rotation), so
   * this replica's JWKS and introspection know every key any replica signs with. A no-op for an
   * unshared store. Resolves to whether the keys changed.
   *
   * @throws {BrokerError} `BROKER_ADAPTER_KEY_STORE`.
   */
  refresh(): Promise<boolean> {
    const shared = this.#store.shared;
    if (shared === undefined) return Promise.resolve(false);
    const run = this.#queue.then(async () => {
      const latest = await shared.loadVersioned();
      if (latest === undefined || latest.revision === this.#revision) return false;
      await this.#adopt(latest);
      return true;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * The current key for `alg` at `now`, rotating first when due.
   *
   * @throws {BrokerError} `BROKER_ADAPTER_BAD_REQUEST` for an algorithm the keyring does not keep,
   * `BROKER_ADAPTER_KEY_STORE` as {@link rotateIfDue}.
   */
  async signingKey(alg: TaskTokenAlgorithm, now: Date): Promise<TaskTokenSigningKey> {
    if (!this.algorithms.includes(alg)) {
      throw new BrokerError('BROKER_ADAPTER_BAD_REQUEST', `no task token key for ${alg}`);
    }
    if (this.#due(now.getTime())) await this.rotateIfDue(now);
    const current = this.#current(alg);
    if (current === undefined) throw new BrokerError('BROKER_INTERNAL', `no current key for ${alg}`);
    return current.key;
  }

  /**
   * The JWKS at `now`: the public half of every current key and of every retired key still within its
   * overlap, newest first. Never a private member.
   */
  jwks(now: Date): TaskTokenJwks {
    const t = now.getTime();
    const keys = this.#entries
      .filter((e) => e.retiredAt === undefined || e.retiredAt + this.overlapSeconds * 1000 > t)
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((e) => e.key.publicJwk);
    return Object.freeze({ keys: Object.freeze(keys) });
  }

  #current(alg: TaskTokenAlgorithm): KeyEntry | undefined {
    return this.#entries.findLast((e) => e.key.alg === alg && e.retiredAt === undefined);
  }

  #due(t: number): boolean {
    const overlapMs = this.overlapSeconds * 1000;
    if (this.#entries.some((e) => e.retiredAt !== undefined && e.retiredAt + overlapMs <= t)) return true;
    if (this.#entries.some((e) => e.retiredAt === undefined && !this.algorithms.includes(e.key.alg)))
      return true;
    return this.algorithms.some((alg) => {
      const current = this.#current(alg);
      return current === undefined || t - current.createdAt >= this.rotationIntervalSeconds * 1000;
    });
  }

  async #adopt(latest: { keys: readonly StoredTaskTokenKey[]; revision: number }): Promise<void> {
    const known = new Map(this.#entries.map((e) => [`${e.stored.kid}/${e.stored.retiredAt ?? ''}`, e]));
    const entries = await Promise.all(
      latest.keys.map((k) => known.get(`${k.kid}/${k.retiredAt ?? ''}`) ?? restoreEntry(k)),
    );
    this.#entries = Object.freeze(entries);
    this.#revision = latest.revision;
  }

  async #rotate(t: number): Promise<boolean> {
    const shared = this.#store.shared;
    if (shared === undefined) {
      // An unshared store never conflicts.
      return (await this.#rotateOnce(t, (next) => this.#store.save(next).then(() => true))) === true;
    }
    // Compare-and-set: on a lost race adopt the winner's keys and decide again (it has usually
    // rotated already, so nothing is left to do). Bounded, so a store that keeps changing fails.
    for (let attempt = 0; attempt < 5; attempt++) {
      const revision = this.#revision;
      const saved = await this.#rotateOnce(t, (next) => shared.saveIf(next, revision));
      if (saved !== 'conflict') {
        if (saved) this.#revision = revision + 1;
        return saved;
      }
      await this.#adopt((await shared.loadVersioned()) ?? { keys: [], revision: 0 });
    }
    throw new BrokerError('BROKER_ADAPTER_KEY_STORE', 'signing keys keep changing under concurrent rotation');
  }

  async #rotateOnce(
    t: number,
    save: (next: readonly StoredTaskTokenKey[]) => Promise<boolean>,
  ): Promise<boolean | 'conflict'> {
    if (!this.#due(t)) return false;
    const overlapMs = this.overlapSeconds * 1000;
    const retire = (e: KeyEntry): KeyEntry => ({
      ...e,
      retiredAt: t,
      stored: { ...e.stored, retiredAt: new Date(t).toISOString() },
    });
    let next = this.#entries.filter((e) => e.retiredAt === undefined || e.retiredAt + overlapMs > t);
    next = next.map((e) =>
      e.retiredAt === undefined && !this.algorithms.includes(e.key.alg) ? retire(e) : e,
    );
    for (const alg of this.algorithms) {
      const current = next.findLast((e) => e.key.alg === alg && e.retiredAt === undefined);
      if (current !== undefined && t - current.createdAt < this.rotationIntervalSeconds * 1000) continue;
      next = next.map((e) => (e === current ? retire(e) : e));
      next = [...next, await generateEntry(alg, t)];
    }
    // Persist first: a key that signs must survive a restart, or its tokens would stop verifying.
    if (!(await save(next.map((e) => e.stored)))) return 'conflict';
    this.#entries = Object.freeze(next);
    return true;
  }
}

async function toSigningKey(privateKey: KeyObject, alg: TaskTokenAlgorithm): Promise<TaskTokenSigningKey> {
  const { kty, crv, x, y, n, e } = createPublicKey(privateKey).export({ format: 'jwk' });
  const members = kty === 'EC' ? { kty, crv, x, y } : { kty, n, e };
  const kid = await calculateJwkThumbprint(members as JWK, 'sha256');
  const publicJwk: TaskTokenPublicJwk = Object.freeze({ ...(members as JWK), kid, alg, use: 'sig' });
  return Object.freeze({ kid, alg, privateKey, publicJwk });
}

async function generateEntry(alg: TaskTokenAlgorithm, t: number): Promise<KeyEntry> {
  const pair =
    alg === 'ES256'
      ? await generateKeyPairAsync('ec', { namedCurve: 'P-256' })
      : await generateKeyPairAsync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  const key = await toSigningKey(pair.privateKey, alg);
  const privateJwk = pair.privateKey.export({ format: 'jwk' }) as JWK;
  const stored = { kid: key.kid, alg, privateJwk, createdAt: new Date(t).toISOString() };
  return { stored, key, createdAt: t, retiredAt: undefined };
}

/** @throws {BrokerError} `BROKER_ADAPTER_KEY_STORE` for a key that cannot be imported or whose kid lies. */
async function restoreEntry(stored: StoredTaskTokenKey): Promise<KeyEntry> {
  let key: TaskTokenSigningKey;
  try {
    const privateKey = createPrivateKey({ key: stored.privateJwk as never, format: 'jwk' });
    const type = privateKey.asymmetricKeyType;
    const curve = privateKey.asymmetricKeyDetails?.namedCurve;
    const fits = stored.alg === 'ES256' ? type === 'ec' && curve === 'prime256v1' : type === 'rsa';
    if (!fits) throw new Error(`key type does not fit ${stored.alg}`);
    // A JWK carries the public point or modulus beside the private part; a probe signature proves they match.
    const probe = Buffer.from('taskpass key probe');
    if (!verify('sha256', probe, createPublicKey(privateKey), sign('sha256', probe, privateKey))) {
      throw new Error('private and public parts do not match');
    }
    key = await toSigningKey(privateKey, stored.alg);
  } catch (err) {
    throw new BrokerError('BROKER_ADAPTER_KEY_STORE', 'stored signing key cannot be imported', {
      cause: err,
    });
  }
  if (key.kid !== stored.kid)
    throw new BrokerError('BROKER_ADAPTER_KEY_STORE', 'stored key id does not match its key');
  const retiredAt = stored.retiredAt === undefined ? undefined : Date.parse(stored.retiredAt);
  return { stored, key, createdAt: Date.parse(stored.createdAt), retiredAt };
}

import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { writeFileAtomic } from '../../broker/atomic-file.js';
import { BrokerError } from '../../broker/errors.js';
import { isTaskTokenAlgorithm, type TaskTokenAlgorithm } from './config.js';

/** One task-token signing key as persisted: its private JWK and its life dates (ISO 8601). */
export interface StoredTaskTokenKey {
  readonly kid: string;
  readonly alg: TaskTokenAlgorithm;
  readonly privateJwk: JWK;
  readonly createdAt: string;
  /** When a successor replaced it for signing; it stays published until `retiredAt + overlap`. */
  readonly retiredAt?: string;
}

/**
 * Where the task-token keyring keeps its keys between restarts. `load` returns `undefined` when nothing
 * was stored yet; anything stored but unreadable or of the wrong shape throws rather than being
 * silently replaced, so an operator notices (tokens in flight would otherwise stop verifying).
 */
export interface TaskTokenKeyStore {
  /** The file holding the keys, or `undefined` for the in-memory store. */
  readonly location: string | undefined;
  /** @throws {BrokerError} `BROKER_ADAPTER_KEY_STORE`. */
  load(): Promise<readonly StoredTaskTokenKey[] | undefined>;
  /** Replaces the stored keys atomically. @throws {BrokerError} `BROKER_ADAPTER_KEY_STORE`. */
  save(keys: readonly StoredTaskTokenKey[]): Promise<void>;
  /**
   * Present when several brokers share the store (the database key store): versioned reads and a
   * compare-and-set write, so replicas adopt each other's rotations instead of overwriting them.
   */
  readonly shared?: SharedTaskTokenKeyStore;
}

/** A key set and the revision it was stored under (1, 2, …). */
export interface VersionedTaskTokenKeys {
  readonly keys: readonly StoredTaskTokenKey[];
  readonly revision: number;
}

/** The compare-and-set half of a store shared between replicas. */
export interface SharedTaskTokenKeyStore {
  /** @throws {BrokerError} `BROKER_ADAPTER_KEY_STORE`. */
  loadVersioned(): Promise<VersionedTaskTokenKeys | undefined>;
  /**
   * Stores `keys` as revision `expected + 1` only if the stored revision is still `expected` (0: none
   * stored yet); resolves to false, changing nothing, when another replica got there first.
   *
   * @throws {BrokerError} `BROKER_ADAPTER_KEY_STORE`.
   */
  saveIf(keys: readonly StoredTaskTokenKey[], expected: number): Promise<boolean>;
}

/** The file name under `<dataDir>/task-tokens/`. */
export const TASK_TOKEN_KEYS_FILE = 'signing-keys.json';

/** An in-memory key store: keys live as long as the process (tests, ephemeral brokers). */
export function createMemoryTaskTokenKeyStore(): TaskTokenKeyStore {
  let keys: readonly StoredTaskTokenKey[] | undefined;
  return {
    location: undefined,
    load: async () => keys,
    save: async (next) => {
      keys = Object.freeze(next.map((k) => Object.freeze({ ...k })));
    },
  };
}

/**
 * A key store in `<dataDir>/task-tokens/signing-keys.json`: directory 0700, file 0600, every write a
 * synced temp file renamed over the old one, so a crash leaves either the old or the new key set.
 */
export function createFileTaskTokenKeyStore(dataDir: string): TaskTokenKeyStore {
  const directory = join(dataDir, 'task-tokens');
  const path = join(directory, TASK_TOKEN_KEYS_FILE);
  return {
    location: path,
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw storeError(`cannot read ${path}`, err);
      }
      return parseKeysFile(text);
    },
    async save(keys) {
      try {
        await mkdir(directory, { recursive: true, mode: 0o700 });
        await chmod(directory, 0o700);
      } catch (err) {
        throw storeError(`cannot create ${directory}`, err);
      }
      await writeAtomic(path, serializeTaskTokenKeys(keys));
    },
  };
}

function storeError(detail: string, cause?: unknown): BrokerError {
  return new BrokerError('BROKER_ADAPTER_KEY_STORE', detail, cause === undefined ? undefined : { cause });
}

async function writeAtomic(path: string, data: string): Promise<void> {
  try {
    await writeFileAtomic(path, data, 0o600);
  } catch (err) {
    throw storeError(`cannot write ${path}`, err);
  }
}

const isDate = (value: unknown): value is string =>
  typeof value === 'string' && !Number.isNaN(Date.parse(value));

function parseEntry(entry: unknown): StoredTaskTokenKey {
  const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
  const jwkOk = typeof e.privateJwk === 'object' && e.privateJwk !== null && !Array.isArray(e.privateJwk);
  if (
    typeof e.kid !== 'string' ||
    !isTaskTokenAlgorithm(e.alg) ||
    !jwkOk ||
    !isDate(e.createdAt) ||
    (e.retiredAt !== undefined && !isDate(e.retiredAt))
  ) {
    throw storeError('signing key entry has an unknown shape');
  }
  return Object.freeze({
    kid: e.kid,
    alg: e.alg,
    privateJwk: e.privateJwk as JWK,
    createdAt: e.createdAt,
    ...(e.retiredAt === undefined ? {} : { retiredAt: e.retiredAt as string }),
  });
}

/** The stored JSON form of a key set (the file's content; the database seals the same text). */
export function serializeTaskTokenKeys(keys: readonly StoredTaskTokenKey[]): string {
  return JSON.stringify({ version: 1, keys }, null, 2) + '\n';
}

/**
 * Parses {@link serializeTaskTokenKeys} output.
 *
 * @throws {BrokerError} `BROKER_ADAPTER_KEY_STORE` for anything else.
 */
export function parseKeysFile(text: string): readonly StoredTaskTokenKey[] {
  let file: { version?: unknown; keys?: unknown };
  try {
    file = JSON.parse(text) as typeof file;
  } catch (err) {
    throw storeError('signing keys file is not json', err);
  }
  if (file?.version !== 1 || !Array.isArray(file.keys))
    throw storeError('signing keys file has an unknown shape');
  return Object.freeze(file.keys.map(parseEntry));
}

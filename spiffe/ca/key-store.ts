import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { JWK } from 'jose';
import type { Certificate } from '../bundle.js';
import { SpiffeError } from '../errors.js';
import { x509 } from '../internal/x509.js';
import { isJwtAlgorithm, jwtSigningKeyFromJwk, privateJwkOf, type JwtSigningKey } from './jwt-keys.js';

/** File names inside `<dataDir>/ca/`. */
export const KEY_STORE_FILES = Object.freeze({
  x509Key: 'x509-ca.key.pem',
  x509Cert: 'x509-ca.cert.pem',
  jwtKeys: 'jwt-keys.json',
});

/** The X.509 signing authority of the CA: its private key and self-signed certificate. */
export interface X509Authority {
  readonly privateKey: KeyObject;
  readonly certificate: Certificate;
}

/**
 * Where the development CA keeps its keys between restarts.
 *
 * Loads return `undefined` when nothing was stored yet; anything stored but unreadable, unparsable or
 * inconsistent throws `SPIFFE_CA_KEY_STORE` rather than being silently replaced, so an operator notices.
 */
export interface CaKeyStore {
  /** The directory holding the files, or `undefined` for the in-memory store. */
  readonly directory: string | undefined;
  loadX509Authority(): Promise<X509Authority | undefined>;
  saveX509Authority(authority: X509Authority): Promise<void>;
  /** JWT keys, oldest first; the last one is the current signing key. */
  loadJwtKeys(): Promise<readonly JwtSigningKey[] | undefined>;
  saveJwtKeys(keys: readonly JwtSigningKey[]): Promise<void>;
}

/**
 * Creates the key store of the development CA: files under `<dataDir>/ca/` (directory 0700, private
 * files 0600, each write atomic by temp file + rename), or an in-memory store when `dataDir` is omitted.
 */
export function createCaKeyStore(dataDir?: string): CaKeyStore {
  return dataDir === undefined ? createMemoryStore() : createFileStore(join(dataDir, 'ca'));
}

function createMemoryStore(): CaKeyStore {
  let authority: X509Authority | undefined;
  let jwtKeys: readonly JwtSigningKey[] | undefined;
  return {
    directory: undefined,
    loadX509Authority: async () => authority,
    saveX509Authority: async (a) => {
      authority = a;
    },
    loadJwtKeys: async () => jwtKeys,
    saveJwtKeys: async (keys) => {
      jwtKeys = Object.freeze([...keys]);
    },
  };
}

function storeError(detail: string, cause?: unknown): SpiffeError {
  return new SpiffeError('SPIFFE_CA_KEY_STORE', detail, cause === undefined ? undefined : { cause });
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw storeError(`cannot read ${path}`, err);
  }
}

/** Writes `data` to `path` atomically: a private temp file in the same directory, synced, then renamed. */
async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw storeError(`cannot write ${path}`, err);
  }
}

function spkiEquals(a: KeyObject, b: KeyObject): boolean {
  return a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }));
}

/** Parses the stored PEM pair, insisting the certificate certifies the stored key. */
function parseAuthority(keyPem: string, certPem: string): X509Authority {
  let privateKey: KeyObject;
  let certificate: Certificate;
  try {
    privateKey = createPrivateKey({ key: keyPem, format: 'pem' });
    certificate = new x509.X509Certificate(certPem);
  } catch (err) {
    throw storeError('x509 authority is not valid pem', err);
  }
  const certKey = createPublicKey({
    key: Buffer.from(certificate.publicKey.rawData),
    format: 'der',
    type: 'spki',
  });
  if (!spkiEquals(createPublicKey(privateKey), certKey)) {
    throw storeError('x509 authority key does not match its certificate');
  }
  return Object.freeze({ privateKey, certificate });
}

interface JwtKeysFile {
  version: 1;
  keys: { kid: string; alg: string; privateJwk: JWK }[];
}

async function parseJwtKeys(text: string): Promise<readonly JwtSigningKey[]> {
  let file: JwtKeysFile;
  try {
    file = JSON.parse(text) as JwtKeysFile;
  } catch (err) {
    throw storeError('jwt keys file is not json', err);
  }
  if (file?.version !== 1 || !Array.isArray(file.keys) || file.keys.length === 0) {
    throw storeError('jwt keys file has an unknown shape');
  }
  const keys: JwtSigningKey[] = [];
  for (const entry of file.keys) {
    if (!isJwtAlgorithm(entry?.alg)) throw storeError('jwt key has an unsupported alg');
    let key: JwtSigningKey;
    try {
      key = await jwtSigningKeyFromJwk(entry.privateJwk, entry.alg);
    } catch (err) {
      throw storeError('jwt key is not a valid private jwk', err);
    }
    if (key.kid !== entry.kid) throw storeError('jwt key id does not match its key');
    keys.push(key);
  }
  return Object.freeze(keys);
}

function createFileStore(directory: string): CaKeyStore {
  const path = (name: string): string => join(directory, name);
  const ensureDir = async (): Promise<void> => {
    try {
      await mkdir(directory, { recursive: true, mode: 0o700 });
      await chmod(directory, 0o700);
    } catch (err) {
      throw storeError(`cannot create ${directory}`, err);
    }
  };
  return {
    directory,
    async loadX509Authority() {
      const keyPem = await readOptional(path(KEY_STORE_FILES.x509Key));
      const certPem = await readOptional(path(KEY_STORE_FILES.x509Cert));
      if (keyPem === undefined && certPem === undefined) return undefined;
      if (keyPem === undefined || certPem === undefined) throw storeError('x509 authority is incomplete');
      return parseAuthority(keyPem, certPem);
    },
    async saveX509Authority({ privateKey, certificate }) {
      await ensureDir();
      // The key goes first: a crash between the two renames leaves a mismatch that the next load reports.
      await writeAtomic(
        path(KEY_STORE_FILES.x509Key),
        privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
        0o600,
      );
      await writeAtomic(path(KEY_STORE_FILES.x509Cert), certificate.toString('pem') + '\n', 0o644);
    },
    async loadJwtKeys() {
      const text = await readOptional(path(KEY_STORE_FILES.jwtKeys));
      return text === undefined ? undefined : parseJwtKeys(text);
    },
    async saveJwtKeys(keys) {
      await ensureDir();
      const file: JwtKeysFile = {
        version: 1,
        keys: keys.map((k) => ({ kid: k.kid, alg: k.alg, privateJwk: privateJwkOf(k) })),
      };
      await writeAtomic(path(KEY_STORE_FILES.jwtKeys), JSON.stringify(file, null, 2) + '\n', 0o600);
    },
  };
}

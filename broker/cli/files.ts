import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BrokerError } from '../errors.js';

/**
 * Reads a file named on the command line.
 *
 * @throws {BrokerError} `BROKER_CLI_FILE_UNREADABLE` naming the path (never the content).
 */
export async function readCliFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new BrokerError('BROKER_CLI_FILE_UNREADABLE', path, { cause: err });
  }
}

/**
 * Writes `data` to `path` atomically (temp file + rename) with `mode`, creating the directory
 * (0700) if needed, so a reader never sees a half-written key.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

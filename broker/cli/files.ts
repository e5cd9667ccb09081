import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';
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
 * Writes `data` to `path` atomically with `mode` (see {@link writeFileAtomic}), creating the
 * directory (0700) if needed, so a reader never sees a half-written key.
 */
export async function writeCliFile(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, data, mode);
}

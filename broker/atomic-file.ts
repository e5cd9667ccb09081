import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';

/**
 * Writes `data` to `path` atomically: a new temp file in the same directory created with `mode`
 * (so a key is never readable by others, not even for a moment), synced, then renamed over `path`.
 * A reader sees the old file or the whole new one, never a partial write; on failure the temp file
 * is removed and the original error is rethrown for the caller to translate.
 *
 * (`spiffe/ca/key-store.ts` keeps its own copy: the SPIFFE library imports nothing from `broker/`.)
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

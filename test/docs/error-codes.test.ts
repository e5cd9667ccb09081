import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BROKER_ERROR_CODES } from '../../broker/errors.js';
import { SPIFFE_ERROR_CODES } from '../../spiffe/errors.js';
import { repositoryRoot } from '../support/repo-root.js';

const ROOT = repositoryRoot();

describe('docs/errors.md', () => {
  it('documents every error code of both catalogs, and no code that does not exist', async () => {
    const doc = await readFile(join(ROOT, 'docs', 'errors.md'), 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
    const catalog = new Set([...Object.keys(SPIFFE_ERROR_CODES), ...Object.keys(BROKER_ERROR_CODES)]);
    assert.deepEqual(
      [...catalog].filter((c) => !documented.has(c)),
      [],
      'codes missing from docs/errors.md',
    );
    assert.deepEqual(
      [...documented].filter((c) => !catalog.has(c!)),
      [],
      'documented codes that do not exist',
    );
  });
});

#!/usr/bin/env node
// Runs every compiled node:test suite under dist/test (the tree mirrors the sources).
// Usage: node scripts/run-tests.mjs [PATH_FILTER…]   e.g. `npm test -- spiffe/ interop/`
// Node 20's `node --test` takes no globs, so the file list is collected here.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = join(import.meta.dirname, '..', 'dist', 'test');
const filters = process.argv.slice(2);

/** @param {string} dir @returns {string[]} */
function collect(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return collect(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

const files = collect(root)
  .filter((f) => filters.length === 0 || filters.some((flt) => relative(root, f).includes(flt)))
  .sort();
if (files.length === 0) {
  console.error(`no test files matched ${filters.join(' ') || '(all)'} under ${root}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);

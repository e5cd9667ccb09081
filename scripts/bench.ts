// `npm run bench` runs every benchmark; `npm run bench -- NAME [NAME…]` runs the named ones.
// Each benchmark lives in scripts/bench/<name>.ts, exports `run()`, and prints its figures one per
// line as `NAME.figure: value unit` so that runs can be compared by a script (DESIGN.md "Benchmarks").
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = join(import.meta.dirname, 'bench');
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.js'))
  .map((f) => f.slice(0, -'.js'.length))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : available) {
  const mod = (await import(pathToFileURL(join(dir, `${name}.js`)).href)) as { run?: () => Promise<void> };
  if (typeof mod.run !== 'function') throw new Error(`scripts/bench/${name}.ts exports no run()`);
  console.log(`# ${name}`);
  await mod.run();
}

// A module resolve hook (node:module `register`) that writes `package: <name>` to stderr for every
// module resolved under node_modules: what a process loads, without touching the code under test.
import type { ResolveHook } from 'node:module';

/** The stderr line prefix of a reported package. */
export const PACKAGE_LINE = 'package: ';

const PACKAGE = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//;

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const resolved = await nextResolve(specifier, context);
  const name = PACKAGE.exec(resolved.url)?.[1];
  if (name !== undefined) process.stderr.write(`${PACKAGE_LINE}${name}\n`);
  return resolved;
};

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Sources from '../src/index.js';

/**
 * The taskweave the benchmarks measure: the built package (`dist/`, what users install and run), not
 * the sources through tsx. tsx compiles with esbuild's keepNames, which wraps every named closure in
 * `__name(fn, 'name')` (an `Object.defineProperty` each time a closure is made, and a properties array
 * per closure): measured under tsx, the engine paid ~2.4 % more CPU (fan10 × 200, `__name` inclusive in
 * a CPU profile) and 4.7 KB more heap per in-flight fan10 run (51.7 against 47.0 KB) than the code
 * users run. XState and the peers come from node_modules either way. Types still come from the sources.
 *
 * `npm run bench` builds first; running a bench file by hand needs `npm run build` after a change.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const entry = join(root, 'dist/src/index.js');
if (!existsSync(entry)) {
  throw new Error(
    'Expected the built package in dist/ (the benchmarks measure what users run), got no dist/src/index.js: run `npm run build` first (`npm run bench` does).',
  );
}
const newest = (dir: string): number =>
  Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
    ),
  );
if (newest(join(root, 'src')) > statSync(entry).mtimeMs) {
  throw new Error(
    'Expected dist/ built from the current sources, got a src/ file newer than dist/src/index.js: run `npm run build` first (`npm run bench` does).',
  );
}

export const taskweave = (await import(entry)) as typeof Sources;

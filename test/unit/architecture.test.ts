import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Who may import whom (ARCHITECTURE.md, "Rooms"): data flows one way, flow → compile → engine → store
 * → jobs, with `model/` and `redis/` underneath. A new room, or a new arrow between rooms, is a
 * decision: make it here and in ARCHITECTURE.md together.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Room → the rooms it may import (besides itself). `errors` is src/errors.ts, part of the model. */
const ALLOWED: Record<string, readonly string[]> = {
  model: ['errors'],
  errors: [],
  redis: ['model', 'errors'],
  flow: ['model', 'errors'],
  compile: ['flow', 'model', 'errors'],
  store: ['model', 'redis', 'errors'],
  engine: ['compile', 'flow', 'model', 'store', 'redis', 'errors'],
  jobs: ['engine', 'compile', 'flow', 'model', 'store', 'redis', 'errors'],
  workers: ['engine', 'compile', 'flow', 'model', 'store', 'redis', 'errors'],
  testing: ['engine', 'compile', 'flow', 'model', 'store', 'errors'],
  dashboard: ['engine', 'compile', 'flow', 'model', 'store', 'jobs', 'redis', 'errors', 'index'],
  cli: ['dashboard', 'engine', 'compile', 'flow', 'model', 'store', 'jobs', 'redis', 'errors', 'index'],
  index: ['*'],
};

/** machines/ is written like a user's code: public entry points, plus the model and Redis rooms. */
const MACHINES_MAY_IMPORT = [
  'src/index.ts',
  'src/testing/index.ts',
  'src/errors.ts',
  'src/model/',
  'src/redis/',
];
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** Relative imports of a file, resolved to repo paths (`.js` specifiers name `.ts` files). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specs.map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)).replace(/\.js$/, '.ts'));
}

function roomOf(path: string): string {
  const inSrc = relative('src', path);
  if (inSrc === 'errors.ts') return 'errors';
  if (inSrc === 'index.ts') return 'index';
  return inSrc.split('/')[0]!;
}

describe('rooms and who may import whom', () => {
  it('every import in src/ goes to its own room or one its room may import', () => {
    const wrong: string[] = [];
    for (const file of sources('src')) {
      const room = roomOf(file);
      const allowed = ALLOWED[room];
      if (!allowed) {
        wrong.push(
          `${file}: room \`${room}\` is not in ALLOWED (test/unit/architecture.test.ts) nor ARCHITECTURE.md`,
        );
        continue;
      }
      for (const target of importsOf(file)) {
        const to = roomOf(target);
        if (to === room || allowed.includes('*') || allowed.includes(to)) continue;
        wrong.push(`${file} imports ${target}: \`${room}\` may import ${allowed.join(', ') || 'nothing'}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('machines/ imports only public entry points, the model and the Redis room', () => {
    const wrong = sources('machines').flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith('src/'))
        .filter((target) => !MACHINES_MAY_IMPORT.some((ok) => target === ok || target.startsWith(ok)))
        .map((target) => `${file} imports ${target}`),
    );
    expect(wrong).toEqual([]);
  });
});

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OwnedRedis, startRedis } from '../support/redis-server.js';

/**
 * Every TypeScript snippet in README.md is code that runs: each ```ts block is preceded by
 * `<!-- snippet: examples/readme/<file> -->`, its lines appear in that file in order, and the file is
 * run. A program is run as its own process (against a test-owned redis-server) and must exit by itself
 * — nothing of taskweave may keep Node alive once the program closed what it opened. A `.test.ts`
 * snippet file is run by the suite itself (vitest.config.ts includes examples/**\/*.test.ts).
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
/** How long a snippet may take to finish and exit by itself. */
const EXIT_WITHIN_MS = 15_000;

interface Snippet {
  file: string;
  code: string;
  line: number;
}

function snippets(): Snippet[] {
  const found: Snippet[] = [];
  const fence = /^```(ts|typescript)\n([\s\S]*?)^```$/gm;
  for (let match = fence.exec(readme); match; match = fence.exec(readme)) {
    const before = readme.slice(0, match.index).trimEnd();
    const line = before.split('\n').length + 1;
    const marker = /<!-- snippet: (\S+) -->$/.exec(before);
    expect(
      marker,
      `README.md line ${line}: a \`\`\`ts block without a <!-- snippet: examples/readme/<file> --> line before it. Put the runnable code in that file (the block may show an excerpt of it).`,
    ).not.toBeNull();
    found.push({ file: marker![1]!, code: match[2]!, line });
  }
  return found;
}

/** The block's non-blank lines occur in the file in this order (the block may leave lines out). */
function excerptOf(code: string, file: string): string | undefined {
  const lines = readFileSync(`${root}${file}`, 'utf8').split('\n');
  let at = 0;
  for (const wanted of code.split('\n').filter((l) => l.trim() !== '')) {
    while (at < lines.length && lines[at]!.trimEnd() !== wanted.trimEnd()) at++;
    if (at === lines.length) return wanted;
    at++;
  }
  return undefined;
}

describe('README snippets', () => {
  const all = snippets();
  let server: OwnedRedis;

  beforeAll(async () => {
    server = await startRedis();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('each snippet is an excerpt of a file that exists', () => {
    expect(all.length).toBeGreaterThanOrEqual(4);
    for (const { file, code, line } of all) {
      expect(existsSync(`${root}${file}`), `README.md line ${line}: ${file} does not exist`).toBe(true);
      expect(excerptOf(code, file), `README.md line ${line}: this line is not in ${file} (in order)`).toBe(
        undefined,
      );
    }
  });

  const programs = [...new Set(all.map((s) => s.file))].filter((file) => !file.endsWith('.test.ts'));
  it.each(programs)('%s runs and exits by itself', async (file) => {
    const began = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, REDIS_URL: server.url, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), EXIT_WITHIN_MS);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (c, s) => resolve([c, s])),
    );
    clearTimeout(killer);
    const ms = Math.round(performance.now() - began);
    expect(signal, `${file} did not exit by itself within ${EXIT_WITHIN_MS} ms:\n${output}`).toBeNull();
    expect(code, output).toBe(0);
    console.info(`${file}: exited by itself after ${ms} ms`);
  });
});

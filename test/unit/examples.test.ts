import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * Every example runs as its own process (as a user would run it) and its stdout must match
 * examples/__golden__/<name>.txt. After an intended change to an example's output:
 *
 *   UPDATE_GOLDEN=1 npx vitest run test/unit/examples.test.ts
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';
const run = promisify(execFile);

const cases: { golden: string; file: string; args?: string[] }[] = [
  { golden: 'hello-world', file: 'hello-world.ts' },
  { golden: 'server-boot', file: 'server-boot.ts' },
  { golden: 'server-boot.boot-vm', file: 'server-boot.ts', args: ['boot-vm'] },
  { golden: 'server-boot.create-port', file: 'server-boot.ts', args: ['create-port'] },
  { golden: 'reverting-linear', file: 'reverting-linear.ts' },
  { golden: 'graph-wiring', file: 'graph-wiring.ts' },
  { golden: 'retry-values', file: 'retry-values.ts' },
  { golden: 'decider', file: 'decider.ts' },
  { golden: 'demo', file: 'demo.ts' },
  { golden: 'server-lifecycle', file: 'server-lifecycle.ts' },
];

describe.concurrent('examples match their golden output', () => {
  for (const { golden, file, args = [] } of cases) {
    it(`${[file, ...args].join(' ')}`, async () => {
      // execFile rejects on a non-zero exit code or a signal, with stderr in the message.
      const { stdout, stderr } = await run(
        process.execPath,
        ['--import', 'tsx', `examples/${file}`, ...args],
        {
          cwd: root,
          timeout: 20_000,
          env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
        },
      );
      expect(stderr).toBe('');
      const path = `${root}examples/__golden__/${golden}.txt`;
      if (update) await writeFile(path, stdout);
      expect(stdout).toBe(await readFile(path, 'utf8'));
    });
  }
});

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { DEAD_REDIS_URL } from '../support/redis-server.js';

/**
 * `npm run demo:ha` with REDIS_URL pointing at nothing: one clear line on stderr, exit code 1, soon
 * (the demo waits 3 s for Redis), and no "[ioredis] Unhandled error event" noise.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));

it('demo:ha with a dead REDIS_URL fails with one clear line and exits', async () => {
  const url = DEAD_REDIS_URL;
  const began = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', 'examples/ha-conductors.ts'],
        { cwd: root, timeout: 20_000, env: { ...process.env, REDIS_URL: url, NO_COLOR: '1' } },
        (error, out, err) =>
          resolve({
            code: error ? ((error as { code?: number }).code ?? null) : 0,
            stdout: out,
            stderr: err,
          }),
      );
      child.stdin?.end();
    },
  );
  const ms = Math.round(performance.now() - began);
  expect(code).toBe(1);
  expect(stdout).toBe('');
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    new RegExp(
      `^demo:ha: cannot reach Redis at ${url} \\(connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+\\)\\. Start redis-server or set REDIS_URL\\.$`,
    ),
  );
  expect(ms).toBeLessThan(10_000);
  console.info(`demo:ha with a dead REDIS_URL exited 1 after ${ms} ms: ${lines[0]}`);
});

import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { deferred } from '../support/flows.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';
import { DEAD_REDIS_URL } from '../support/redis-server.js';
import { BIN, taskweave } from '../support/taskweave-cli.js';

/**
 * The README's way to something to look at: `npm run demo -- --redis` stores the demo's runs, and the
 * `taskweave` command and its dashboard (started as a user starts it) show them.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const prefix = testPrefix('demo');
const redis = newRedis();

afterAll(async () => {
  await cleanPrefix(redis, prefix);
  redis.disconnect();
});

it("the demo's runs stored in Redis are listed by taskweave runs ls and shown by taskweave dashboard", async () => {
  const demo = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'examples/demo.ts', '--redis', REDIS_URL, '--prefix', prefix],
    { cwd: root, timeout: 30_000, env: { ...process.env, NO_COLOR: '1' } },
  );
  expect(demo.stdout).toContain(`store: redis (${REDIS_URL}, prefix ${prefix})`);

  const listed = await taskweave(['runs', 'ls', '--prefix', prefix, '--json']);
  expect(listed.code).toBe(0);
  const runs = (JSON.parse(listed.stdout) as { id: string; flow: string; status: string }[])
    .map((r) => [r.id.replace(/-[0-9a-z]+$/, ''), r.flow, r.status])
    .sort();
  expect(runs).toEqual([
    ['boot-fail', 'server-boot', 'REVERTED'],
    ['boot-ok', 'server-boot', 'SUCCESS'],
  ]);
  const ids = (JSON.parse(listed.stdout) as { id: string }[]).map((r) => r.id);
  const failed = ids.find((id) => id.startsWith('boot-fail-'))!;

  const dashboard = spawn(process.execPath, [BIN, 'dashboard', '--port', '0', '--prefix', prefix, '--json'], {
    env: { ...process.env, REDIS_URL },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => dashboard.on('close', resolve));
  try {
    // `--json` prints the URL it serves on as one JSON document.
    const served = deferred<string>();
    let stdout = '';
    dashboard.stdout.on('data', (d) => {
      stdout += d;
      try {
        served.resolve((JSON.parse(stdout) as { url: string }).url);
      } catch {
        // not the whole document yet
      }
    });
    const url = await served.promise;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const list = await (await fetch(url)).text();
    for (const id of ids) expect(list).toContain(`href="/runs/${id}"`);
    const page = await (await fetch(`${url}/runs/${failed}`)).text();
    for (const task of ['allocate-ip', 'create-volume', 'create-port', 'boot-vm'])
      expect(page).toContain(`data-task="${task}" data-state="REVERTED"`);
    expect(page).toContain('boot-vm</b> failed: Error: boot-vm: injected failure');
    // Nothing on the pages comes from elsewhere: every script and stylesheet is the dashboard's own.
    expect([...`${list}${page}`.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1])).not.toContainEqual(
      expect.stringMatching(/^(https?:)?\/\//),
    );
  } finally {
    dashboard.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
});

it('npm run demo -- --redis with nothing listening there is one line on stderr and exit code 1, soon', async () => {
  const url = DEAD_REDIS_URL;
  const began = performance.now();
  const failed = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'examples/demo.ts', '--redis', url],
    {
      cwd: root,
      timeout: 30_000,
      env: { ...process.env, NO_COLOR: '1' },
    },
  ).then(
    () => undefined,
    (error: { code?: number; stderr: string }) => error,
  );
  expect(failed?.code).toBe(1);
  expect(failed?.stderr).toMatch(
    new RegExp(
      `^demo: cannot reach Redis at ${url} \\(connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+\\)\\. Start redis-server, or pass its URL: npm run demo -- --redis <url>\\.\\n$`,
    ),
  );
  // The demo's 5 s deadline and the process's start, not the store's default 30 s.
  expect(performance.now() - began).toBeLessThan(20_000);
});

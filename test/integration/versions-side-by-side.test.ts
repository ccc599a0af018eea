import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  compile,
  createEngine,
  FlowVersionMismatchError,
  linear,
  redisStore,
  task,
} from '../../src/index.js';
import { deferred } from '../support/flows.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';

/**
 * A deploy that adds a task to a flow, across processes: runs started on v1 by one process are
 * resumed and reverted on v1's structure (with v1's code) by another process that holds v1 and v2,
 * while new runs there start on v2. An engine that holds no structure of a run refuses it with
 * FlowVersionMismatchError naming the stored and the known versions.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const child = (prefix: string, mode: 'old' | 'new') =>
  [process.execPath, ['--import', 'tsx', 'test/support/versions-child.ts', REDIS_URL, prefix, mode]] as const;

let redis: Redis;
let prefix: string;
let old: ChildProcess | undefined;

beforeEach(() => {
  redis = newRedis();
  prefix = testPrefix('versions');
});

afterEach(async () => {
  old?.kill('SIGKILL');
  await cleanPrefix(redis, prefix);
  await redis.quit();
});

it('v1 runs finish and roll back on v1 in a process that also starts new runs on v2', async () => {
  const [node, oldArgs] = child(prefix, 'old');
  old = spawn(node, oldArgs, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) =>
    createInterface({ input: old!.stdout! }).on('line', (line) => line === 'PARKED' && resolve()),
  );
  old.kill('SIGKILL');

  const [, newArgs] = child(prefix, 'new');
  const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) =>
    execFile(node, newArgs, { cwd: root, timeout: 20_000 }, (error, out) =>
      error ? reject(error) : resolve({ stdout: out }),
    ),
  );
  const outcome = JSON.parse(stdout.trim());
  expect(outcome['v1-a']).toEqual({ value: { ra: 'a@v1', rb: 'b@v1' } }); // no `c`: v1's structure
  expect(outcome['v1-b']).toEqual({ value: 'done' }); // engine.revert resolved
  expect(outcome['v1-c']).toEqual({ error: 'FlowFailedError' }); // it was reverting: it finished reverting
  expect(outcome.fresh).toEqual({ value: { ra: 'a@v2', rb: 'b@v2', rc: 'c@v2' } });
  expect(outcome.versions).toEqual({
    'v1-a': '1 SUCCESS',
    'v1-b': '1 REVERTED',
    'v1-c': '1 REVERTED',
    fresh: '2 SUCCESS',
  });
  const log = await redis.lrange(`${prefix}:log`, 0, -1);
  // The v1 runs ran v1's code only, after the deploy too; the new run v2's only.
  for (const entry of log.filter((e) => !e.endsWith(':fresh'))) expect(entry).toMatch(/^v1:/);
  expect(log.filter((e) => e.endsWith(':fresh'))).toEqual([
    'v2:execute:a:fresh',
    'v2:execute:b:fresh',
    'v2:execute:c:fresh',
  ]);
  expect(log).toContain('v1:execute:b:v1-a');
  expect(log).toContain('v1:revert:a:v1-b');
  expect(log).toContain('v1:revert:a:v1-c');
});

it('an engine without the stored structure refuses with FlowVersionMismatchError naming what it knows', async () => {
  const started = deferred();
  const step = (name: string, requires: string[], provides: string) =>
    task({
      name,
      requires,
      provides,
      execute: () => {
        started.resolve(); // the run is stored by now (durable before effect)
        return new Promise<never>(() => {});
      },
    });
  const v1 = linear('deploy', [step('a', ['input'], 'ra')], { version: '1' });
  const v2 = linear('deploy', [step('a', ['input'], 'ra'), step('b', ['ra'], 'rb')], { version: '2' });
  const v3 = linear('deploy', [step('a', ['input'], 'ra'), step('c', ['ra'], 'rc')], { version: '3' });
  const first = createEngine({ store: redisStore({ redis: REDIS_URL, prefix }) });
  const parked = first.start(v1, { input: 1 }, { id: 'on-v1' });
  await started.promise;
  await first.close();
  await parked.result.catch(() => {});
  const later = createEngine({ store: redisStore({ redis: REDIS_URL, prefix }), flows: [v2, v3] });
  try {
    const error = await later.resume('on-v1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlowVersionMismatchError);
    expect(error).toMatchObject({
      runId: 'on-v1',
      flow: 'deploy',
      storedVersion: '1',
      storedHash: compile(v1).hash,
      knownVersions: [`2 (${compile(v2).hash})`, `3 (${compile(v3).hash})`],
    });
    expect((error as Error).message).toMatch(/version 1 with structure/);
    expect((error as Error).message).toContain(`2 (${compile(v2).hash})`);
  } finally {
    await later.close();
  }
});

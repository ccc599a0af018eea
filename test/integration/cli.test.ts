import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEngine,
  type Engine,
  type FlowRun,
  type JobBoard,
  redisJobBoard,
  redisStore,
  type Store,
  type TaskContext,
} from '../../src/index.js';
import { makeCliFlows } from '../support/cli-flows.js';
import { deferred, waitFor } from '../support/flows.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';
import { BIN, taskweave } from '../support/taskweave-cli.js';

const FLOWS = fileURLToPath(new URL('../support/cli-flows.ts', import.meta.url));
const packageJson = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'),
) as { version: string };
const SERVER_BOOT = fileURLToPath(new URL('../../examples/server-boot.ts', import.meta.url));

const forever = new Promise<never>(() => {});

// Each test spawns the bin several times (1-2 s each here, 5 s or more while the whole suite loads both cores).
describe('the taskweave command against real Redis', { timeout: 120_000 }, () => {
  const prefix = testPrefix('cli');
  let redis: Redis;
  let store: Store;
  let engine: Engine;
  let board: JobBoard;
  const held: FlowRun<any>[] = [];
  const suspendGate = deferred<unknown>();
  const cli = (...args: string[]) => taskweave([...args, '--prefix', prefix]);

  /** What each run's tasks do, by run id and task name. */
  const script: Record<string, (name: string, ctx: TaskContext) => unknown> = {
    'fail-1': (name) => {
      if (name === 'attach') throw new Error('disk full');
      return name;
    },
    'rfail-1': (name) => {
      if (name === 'store') throw new Error('quota exceeded');
      return name;
    },
    'susp-1': (name) => (name === 'reserve' ? suspendGate.promise : name),
    'held-1': (name) => (name === 'reserve' ? forever : name),
    'backoff-1': () => {
      throw new TypeError('connection refused');
    },
    'limit-1': (name) => (name === 'w1' ? forever : name),
  };
  const flows = makeCliFlows({
    execute: (name, ctx) => script[ctx.flowId]?.(name, ctx) ?? name,
    revert: (name, ctx) => {
      if (ctx.flowId === 'rfail-1' && name === 'fetch') throw new Error('cannot undo fetch');
    },
  });
  const stored = (id: string, check: (parts: Record<string, string>, status: string) => boolean) =>
    waitFor(
      async () => {
        const run = await store.load(id);
        return run && check(run.parts, run.meta.status);
      },
      10_000,
      `run ${id} to be stored`,
    );
  const taskState = (parts: Record<string, string>, task: string) =>
    (JSON.parse(parts[`t:${task}`] ?? '{}') as { s?: string }).s;

  beforeAll(async () => {
    redis = newRedis();
    store = redisStore({ redis, prefix });
    engine = createEngine({ store, flows: Object.values(flows) });
    board = redisJobBoard({ redis, prefix });
    await engine.run('cli-ok', {}, { id: 'ok-1' });
    await engine.run('cli-steps', {}, { id: 'fail-1' }).catch(() => {});
    await engine.run('cli-ok', {}, { id: 'rfail-1' }).catch(() => {});
    const suspending = engine.start('cli-steps', {}, { id: 'susp-1' });
    await stored('susp-1', (parts) => taskState(parts, 'reserve') === 'RUNNING');
    const suspended = suspending.suspend();
    suspendGate.resolve('ok');
    await suspended;
    held.push(engine.start('cli-steps', {}, { id: 'held-1' }));
    held.push(engine.start('cli-flaky', {}, { id: 'backoff-1' }));
    held.push(engine.start('cli-wide', {}, { id: 'limit-1', concurrency: 1 }));
    await stored('held-1', (parts) => taskState(parts, 'reserve') === 'RUNNING');
    await stored('backoff-1', (parts) => taskState(parts, 'call-api') === 'RETRYING');
    await stored('limit-1', (parts) => taskState(parts, 'w1') === 'RUNNING');
    await board.post({ flow: 'cli-ok', id: 'job-held', inputs: {} });
    await board.claim('conductor-x', 600_000); // held for the whole file, however slow the machine
  });

  afterAll(async () => {
    for (const run of held) engine.abort(run.id);
    await engine.close();
    await store.close();
    await board.close();
    await cleanPrefix(redis, prefix);
    redis.disconnect();
  });

  it('runs ls lists runs in every state, for people and as JSON', async () => {
    const human = await cli('runs', 'ls');
    expect(human.code).toBe(0);
    expect(human.stderr).toBe('');
    const lines = human.stdout.split('\n');
    expect(lines[0]).toMatch(/^ID\s+FLOW\s+STATUS\s+CREATED\s+UPDATED\s+OWNER$/);
    const row = (id: string) => lines.find((l) => l.startsWith(`${id} `)) ?? '';
    expect(row('ok-1')).toMatch(/^ok-1\s+cli-ok\s+SUCCESS\s+\S+ ago|just now/);
    expect(row('fail-1')).toContain('REVERTED');
    expect(row('rfail-1')).toContain('FAILURE');
    expect(row('susp-1')).toContain('SUSPENDED');
    expect(row('held-1')).toContain('RUNNING');
    expect(row('held-1')).toContain(engine.id);
    expect(human.stdout).toMatch(/7 runs: .*3 RUNNING/);
    // No colour codes when stdout is not a terminal.
    expect(human.stdout).not.toContain('\u001b[');

    const json = await cli('runs', 'ls', '--json');
    expect(json.code).toBe(0);
    const list = JSON.parse(json.stdout) as {
      id: string;
      flow: string;
      status: string;
      createdAt: number;
      owner?: string;
    }[];
    const byId = Object.fromEntries(list.map((r) => [r.id, r]));
    expect(Object.keys(byId).sort()).toEqual([
      'backoff-1',
      'fail-1',
      'held-1',
      'limit-1',
      'ok-1',
      'rfail-1',
      'susp-1',
    ]);
    expect(byId['ok-1']).toMatchObject({ flow: 'cli-ok', status: 'SUCCESS', createdAt: expect.any(Number) });
    expect(byId['rfail-1']!.status).toBe('FAILURE');
    expect(byId['held-1']).toMatchObject({ status: 'RUNNING', owner: engine.id });

    const filtered = JSON.parse(
      (await cli('runs', 'ls', '--json', '--status', 'suspended', '--flow', 'cli-steps')).stdout,
    );
    expect(filtered.map((r: { id: string }) => r.id)).toEqual(['susp-1']);
  });

  it('runs show gives each task state, attempt and error', async () => {
    const human = await cli('runs', 'show', 'fail-1');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^run fail-1 {2}cli-steps \(version 1\) {2}REVERTED$/m);
    expect(human.stdout).toMatch(/^attach\s+REVERTED\s+1\s+.*Error: disk full$/m);
    expect(human.stdout).toMatch(/^reserve\s+REVERTED\s+1/m);

    const json = JSON.parse((await cli('runs', 'show', 'rfail-1', '--json')).stdout);
    expect(json).toMatchObject({ id: 'rfail-1', flow: 'cli-ok', status: 'FAILURE' });
    // The failed task was reverted too (with its error); the revert of fetch threw.
    expect(json.tasks.store).toMatchObject({
      state: 'REVERTED',
      attempt: 1,
      error: { name: 'Error', message: 'quota exceeded' },
    });
    expect(json.tasks.fetch).toMatchObject({
      state: 'REVERT_FAILURE',
      error: { message: 'cannot undo fetch' },
    });
  });

  it('runs explain says what a run waits on: backoff, the concurrency limit, a suspended run, a held job lease', async () => {
    const backoff = await cli('runs', 'explain', 'backoff-1');
    expect(backoff.code).toBe(0);
    expect(backoff.stdout).toMatch(
      /^call-api: attempt 1 failed with TypeError: connection refused, next attempt at \d\d:\d\d:\d\d \(in \d+[ms]\)\.$/m,
    );
    const backoffJson = JSON.parse((await cli('runs', 'explain', 'backoff-1', '--json')).stdout);
    expect(backoffJson.waitingOn).toEqual([
      expect.objectContaining({
        task: 'call-api',
        reason: 'retry-backoff',
        until: expect.any(Number),
        attempt: 2,
      }),
    ]);

    const limit = JSON.parse((await cli('runs', 'explain', 'limit-1', '--json')).stdout);
    expect(limit.waitingOn).toEqual([
      { task: 'w1', reason: 'running', attempt: 1, since: expect.any(Number) },
      { task: 'w2', reason: 'concurrency-limit' },
      { task: 'w3', reason: 'concurrency-limit' },
    ]);
    expect(limit.text).toContain(
      'w2: ready, waiting for a free slot (1 of at most 1 tasks of this run are busy).',
    );

    const suspended = await cli('runs', 'explain', 'susp-1');
    expect(suspended.stdout).toMatch(
      /^Run susp-1 \(cli-steps\) is suspended since .*: nothing runs until an engine resumes it\.$/m,
    );

    const job = await cli('runs', 'explain', 'job-held');
    expect(job.code).toBe(0);
    expect(job.stdout).toMatch(
      /^Job job-held is held by conductor conductor-x; its lease expires at \d\d:\d\d:\d\d \(in \d+[ms]\) unless renewed\./m,
    );
    const jobJson = JSON.parse((await cli('runs', 'explain', 'job-held', '--json')).stdout);
    expect(jobJson.job).toMatchObject({
      state: 'CLAIMED',
      owner: 'conductor-x',
      leaseUntil: expect.any(Number),
    });
  });

  it('fails with one line on stderr and exit code 1 for an unknown run, also with --json', async () => {
    for (const args of [
      ['runs', 'show', 'nope'],
      ['runs', 'show', 'nope', '--json'],
      ['runs', 'explain', 'nope'],
    ]) {
      const ran = await cli(...args);
      expect(ran.code).toBe(1);
      expect(ran.stdout).toBe('');
      expect(ran.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(ran.stderr).toContain('nope');
    }
  });

  it('says in one line that Redis is down, and exits 1 within the deadline', async () => {
    const ran = await taskweave(['runs', 'ls', '--redis', 'redis://127.0.0.1:1', '--deadline-ms', '1000']);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toBe(
      'taskweave: Redis at redis://127.0.0.1:1 did not answer within 1000 ms (connect ECONNREFUSED 127.0.0.1:1). Start Redis, or pass --redis <url> (or set REDIS_URL).\n',
    );
    // The deadline plus the process's start (1-2 s here, more while the whole suite loads both cores).
    expect(ran.ms).toBeLessThan(1000 + 10_000);
  });

  it('exits 2 for usage errors, with the reason (1 for a port in use)', async () => {
    const bad = await cli('runs', 'ls', '--status', 'DONE');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Expected --status to be one of PENDING, RUNNING');
    const missing = await cli('runs', 'show');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'id'");
    const noFlows = await cli('runs', 'resume', 'susp-1');
    expect(noFlows.code).toBe(2);
    expect(noFlows.stderr).toContain('Expected --flows <module>');
    // A port in use is no usage error: the command failed (exit 1), saying what to do.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const busy = await cli('dashboard', '--port', String(port));
    taken.close();
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`Port ${port} on 127.0.0.1 is in use; pass --port <another>.`);
    const version = await taskweave(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${packageJson.version}\n`, stderr: '' });
  });

  it('refuses to take over a run another engine holds unless forced; cancel then reverts it', async () => {
    const refused = await cli('runs', 'cancel', 'held-1', '--flows', FLOWS);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Run held-1 is RUNNING, held by ${engine.id}`);
    const cancelled = await cli('runs', 'cancel', 'held-1', '--flows', FLOWS, '--force', '--json');
    expect(cancelled.stderr).toBe('');
    expect(cancelled.code).toBe(0);
    expect(JSON.parse(cancelled.stdout)).toEqual({ id: 'held-1', status: 'REVERTED' });
    expect((await store.load('held-1'))?.meta.status).toBe('REVERTED');
  });

  it("refuses, in one line and touching nothing, a flows module without the run's flow or with another structure of it", async () => {
    const before = (await store.load('fail-1'))?.meta;
    const other = await cli('runs', 'revert', 'fail-1', '--flows', SERVER_BOOT);
    expect(other.code).toBe(1);
    expect(other.stdout).toBe('');
    expect(other.stderr).toMatch(
      /^taskweave: Expected .*server-boot\.ts to export flow `cli-steps` \(the flow of run fail-1\), got `server-boot`\. Pass the module that defines it\.\n$/,
    );
    const dir = await mkdtemp(join(tmpdir(), 'taskweave-cli-'));
    try {
      const changed = join(dir, 'changed.mts');
      const index = pathToFileURL(fileURLToPath(new URL('../../src/index.ts', import.meta.url))).href;
      await writeFile(
        changed,
        `import { linear, task } from '${index}';\nexport const steps = linear('cli-steps', [task({ name: 'reserve', execute: () => 1 })]);\n`,
      );
      const mismatch = await cli('runs', 'revert', 'fail-1', '--flows', changed);
      expect(mismatch.code).toBe(1);
      expect(mismatch.stdout).toBe('');
      expect(mismatch.stderr).toMatch(
        /^taskweave: Run `fail-1` was stored by flow `cli-steps` version 1 with structure/,
      );
      expect(mismatch.stderr.trimEnd().split('\n')).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect((await store.load('fail-1'))?.meta).toEqual(before);
  });

  it('resumes a suspended run to the end with the flows module', async () => {
    const resumed = await cli('runs', 'resume', 'susp-1', '--flows', FLOWS);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('Run susp-1 ended SUCCESS.');
    expect((await store.load('susp-1'))?.meta.status).toBe('SUCCESS');
  });

  it('posts, lists, cancels and retries jobs', async () => {
    const posted = await cli('jobs', 'post', 'cli-ok', '--id', 'job-new', '--inputs', '{"n":1}', '--json');
    expect(JSON.parse(posted.stdout)).toEqual({ id: 'job-new' });
    const list = JSON.parse((await cli('jobs', 'ls', '--json')).stdout) as { id: string; state: string }[];
    expect(list.map((j) => [j.id, j.state]).sort()).toEqual([
      ['job-held', 'CLAIMED'],
      ['job-new', 'UNCLAIMED'],
    ]);
    const human = await cli('jobs', 'ls');
    expect(human.stdout).toMatch(/^job-held\s+cli-ok\s+CLAIMED\s+0\s+0\s+conductor-x\s+in \d+[ms]/m);
    expect(human.stdout).toContain('1 UNCLAIMED, 1 CLAIMED, 0 COMPLETE, 0 FAILED, 0 CANCELLED');
    expect((await cli('jobs', 'cancel', 'job-new')).stdout).toBe('Cancelled job job-new.\n');
    expect((await board.get('job-new'))?.state).toBe('CANCELLED');
    const again = await cli('jobs', 'cancel', 'job-new');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already CANCELLED');
    expect((await cli('jobs', 'retry', 'job-new')).code).toBe(0);
    expect((await board.get('job-new'))?.state).toBe('UNCLAIMED');
    const show = await cli('jobs', 'show', 'job-new');
    expect(show.stdout).toContain('waits for a conductor to claim it');
    expect(show.stdout).toContain('inputs: {"n":1}');
  });

  it('draws a flow from a module, as text, Mermaid, DOT and JSON; a module with no flows is one line', async () => {
    const text = await taskweave(['graph', FLOWS, 'cli-steps']);
    expect(text.stdout).toMatch(/^ {2}format ← reserve$/m);
    expect(text.stdout).toMatch(/^ {2}attach ← format, tag$/m);
    expect((await taskweave(['graph', FLOWS, 'cli-steps', '--mermaid'])).stdout).toMatch(/^flowchart TD/);
    expect((await taskweave(['graph', FLOWS, 'cli-steps', '--dot'])).stdout).toMatch(
      /^digraph "cli-steps" \{/,
    );
    const shape = JSON.parse((await taskweave(['graph', FLOWS, 'cli-steps', '--json'])).stdout);
    expect(shape.tasks.map((t: { name: string }) => t.name)).toEqual(['reserve', 'format', 'tag', 'attach']);
    const none = await taskweave([
      'graph',
      fileURLToPath(new URL('../support/redis.ts', import.meta.url)),
      'x',
    ]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(
      /^taskweave: Expected .*redis\.ts to export flows made by linear\(\), parallel\(\) or graph\(\), got none/,
    );
    const missing = await taskweave(['graph', 'no/such/module.ts', 'x']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('got no such file');
  });

  it('runs history prints every stored event, and --json gives them as stored', async () => {
    const events = await engine.history('fail-1');
    const json = JSON.parse((await cli('runs', 'history', 'fail-1', '--json')).stdout);
    expect(json).toEqual(events);
    const human = (await cli('runs', 'history', 'fail-1')).stdout.trimEnd().split('\n');
    expect(human).toHaveLength(events.length);
    expect(human[0]).toMatch(/^ {3}1 {2}\d\d:\d\d:\d\d\.\d{3} {2}run\s+RUNNING$/);
    expect(human).toContainEqual(
      expect.stringMatching(/^\s+\d+ {2}\S+ {2}attach\s+FAILURE attempt 1 Error: disk full$/),
    );
    expect(human.at(-1)).toMatch(/run\s+REVERTED$/);
  });

  it('runs watch, in another process, sees every state change of a run as it happens and exits with its outcome', async () => {
    const gates = { reserve: deferred<unknown>(), format: deferred<unknown>(), tag: deferred<unknown>() };
    const report = deferred();
    script['watch-1'] = async (name, ctx) => {
      if (name === 'format') {
        await report.promise;
        ctx.progress(0.5); // published to live watchers in other processes, not stored
      }
      return gates[name as keyof typeof gates]?.promise ?? name;
    };
    script['watch-2'] = (name) => {
      if (name === 'attach') throw new Error('no slot');
      return name;
    };
    const run = engine.start('cli-steps', {}, { id: 'watch-1' });
    await stored('watch-1', (parts) => taskState(parts, 'reserve') === 'RUNNING');
    const seen = deferred();
    const progressed = deferred();
    const watcher = taskweave(['runs', 'watch', 'watch-1', '--prefix', prefix], {}, (out) => {
      if (out.includes('reserve') && out.includes('RUNNING')) seen.resolve();
      if (/format\s+progress 50%/.test(out)) progressed.resolve();
    });
    await seen.promise; // the watcher is live: from here on it sees changes as they are stored
    gates.reserve.resolve('r');
    gates.tag.resolve('t');
    await stored('watch-1', (parts) => taskState(parts, 'tag') === 'SUCCESS');
    report.resolve();
    await progressed.promise;
    gates.format.resolve('f');
    await run.result;
    const ran = await watcher;
    expect(ran.code).toBe(0);
    const lines = ran.stdout
      .trimEnd()
      .split('\n')
      .filter((l) => !l.includes('progress 50%'));
    const events = await engine.history('watch-1');
    // One line per stored event, in order, then the outcome.
    expect(
      lines
        .slice(0, -1)
        .map((l) => l.replace(/^\s*(\d+) .*?(run|\S+)\s+([A-Z_]+)( attempt \d+)?$/, '$1 $2 $3')),
    ).toEqual(events.map((e) => `${e.seq} ${e.task ?? 'run'} ${e.state}`));
    expect(lines.at(-1)).toBe('Run watch-1 ended SUCCESS.');

    await engine.run('cli-steps', {}, { id: 'watch-2' }).catch(() => {});
    const failed = await cli('runs', 'watch', 'watch-2', '--json');
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ id: 'watch-2', status: 'REVERTED' });
  });

  it.skipIf(!existsSync('/usr/bin/script'))(
    'runs watch on a terminal that reports no size prints a line per event (log-update would show nothing)',
    async () => {
      // util-linux `script` runs the command on a new pty; with no terminal of ours to copy, it has 0 rows.
      const command = `'${process.execPath}' '${BIN}' runs watch fail-1 --prefix ${prefix}`;
      const ran = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
        const child = spawn('/usr/bin/script', ['-qec', command, '/dev/null'], {
          env: { ...process.env, REDIS_URL, NO_COLOR: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        child.stdout.on('data', (d) => {
          stdout += d;
        });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout }));
      });
      expect(ran.code).toBe(1); // the run ended REVERTED
      const lines = ran.stdout.replace(/\r/g, '').trimEnd().split('\n');
      expect(lines).toContainEqual(expect.stringMatching(/attach\s+FAILURE attempt 1 Error: disk full$/));
      expect(lines.at(-1)).toBe('Run fail-1 ended REVERTED.');
      expect(lines).toHaveLength((await engine.history('fail-1')).length + 1);
    },
  );

  it('stops quietly when the reader of its output goes away (… | head), before the run ends', async () => {
    const reserve = deferred<unknown>();
    script['pipe-1'] = (name) => (name === 'reserve' ? reserve.promise : name === 'format' ? forever : name);
    held.push(engine.start('cli-steps', {}, { id: 'pipe-1' }));
    await stored('pipe-1', (parts) => taskState(parts, 'reserve') === 'RUNNING');
    const child = spawn(process.execPath, [BIN, 'runs', 'watch', 'pipe-1', '--prefix', prefix], {
      env: { ...process.env, REDIS_URL },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // The reader takes the first lines and goes away, as `head` does.
    await new Promise<void>((resolve) =>
      child.stdout.once('data', () => {
        child.stdout.destroy();
        resolve();
      }),
    );
    // The next events are written to a pipe nobody reads (EPIPE); format never ends, so only that stops the watch.
    reserve.resolve('r');
    await stored('pipe-1', (parts) => taskState(parts, 'format') === 'RUNNING');
    const code = await exited;
    expect(stderr).toBe('');
    expect(code).not.toBeNull(); // exited by itself, not killed
    expect((await store.load('pipe-1'))?.meta.status).toBe('RUNNING');
  });

  it('worker executes the tasks of a distributed run until SIGTERM', async () => {
    const distributed = createEngine({
      store,
      flows: Object.values(flows),
      execution: 'distributed',
      closeStore: false,
    });
    const ready = deferred();
    const child = spawn(process.execPath, [BIN, 'worker', FLOWS, '--prefix', prefix], {
      env: { ...process.env, REDIS_URL },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes('taking default')) ready.resolve();
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await ready.promise;
      await expect(distributed.run('cli-steps', {}, { id: 'dist-1' })).resolves.toEqual({});
      expect((await store.load('dist-1'))?.meta.status).toBe('SUCCESS');
    } finally {
      child.kill('SIGTERM');
      await distributed.close();
    }
    expect(await exited).toBe(0);
  });

  it('conductor claims posted jobs and runs them until SIGTERM, then drains and exits 0', async () => {
    const ready = deferred();
    const completed = deferred();
    const child = spawn(
      process.execPath,
      [BIN, 'conductor', FLOWS, '--prefix', prefix, '--lease-ms', '2000'],
      {
        env: { ...process.env, REDIS_URL },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('completed job-cond')) completed.resolve();
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes('Ctrl-C drains')) ready.resolve();
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await ready.promise;
      expect(stderr).toContain('running cli-flaky, cli-ok, cli-steps, cli-wide');
      expect(stderr).toContain('(concurrency 8, lease 2000 ms)');
      await board.post({ flow: 'cli-steps', id: 'job-cond', inputs: {} });
      await completed.promise;
      expect(stdout).toMatch(/^\S+ {2}claimed job-cond \(cli-steps\)$/m);
      expect((await board.get('job-cond'))?.state).toBe('COMPLETE');
      expect((await store.load('job-cond'))?.meta.status).toBe('SUCCESS');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).toContain('stopping: finishing running jobs');
  });

  it('purges finished runs older than a duration', async () => {
    const purged = await cli('runs', 'purge', '--older-than', '1ms', '--json');
    expect(purged.code).toBe(0);
    const { deleted } = JSON.parse(purged.stdout) as { deleted: number };
    expect(deleted).toBeGreaterThanOrEqual(3); // ok-1, fail-1, rfail-1 and the runs finished by the tests above
    expect(await store.load('ok-1')).toBeUndefined();
    expect((await store.load('backoff-1'))?.meta.status).toBe('RUNNING');
  });
});

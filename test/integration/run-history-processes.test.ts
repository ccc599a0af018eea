import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  type Engine,
  type FlowStructure,
  type RunEvent,
  redisStore,
  type Store,
  toDot,
  toMermaid,
} from '../../src/index.js';
import { type Child, startChild } from '../support/child.js';
import { PROVISION_RESULTS, provisionFlow, redisEffects } from '../support/flows.js';
import { startLineProcess } from '../support/line-process.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';

/**
 * History and the flow catalog across processes (API.md "History and watching, from any process";
 * "Command line and dashboard": a run is readable without the flow's code). One process runs the
 * flow, is SIGKILLed mid-run, another resumes it, while a third that imports no flow watches, then
 * reads and draws the run.
 */

const READER = fileURLToPath(new URL('../support/history-child.ts', import.meta.url));

interface Reader {
  lines: string[];
  /** Resolves once a line matching `match` was printed (or already was). */
  line(match: (line: string) => boolean): Promise<string>;
  /** Resolves with the exit code once the process has exited by itself. */
  exited: Promise<number | null>;
  kill(): void;
}

function startReader(prefix: string, runId: string, mode: 'watch' | 'draw'): Reader {
  const child = startLineProcess(READER, [REDIS_URL, prefix, runId, mode], { name: 'reader' });
  return {
    lines: child.lines,
    line: (match) => child.waitForLine((line) => match(line)),
    exited: child.exited.then((code) => {
      if (code !== 0) throw new Error(`reader exited with ${code}: ${child.stderr()}`);
      return code;
    }),
    kill: () => void child.kill(),
  };
}

const events = (reader: Reader): RunEvent[] =>
  reader.lines.filter((l) => l.startsWith('EVENT ')).map((l) => JSON.parse(l.slice(6)) as RunEvent);

describe('history and catalog from other processes (Redis)', () => {
  let redis: Redis;
  let prefix: string;
  let store: Store;
  let engine: Engine | undefined;
  let runner: Child | undefined;
  let reader: Reader | undefined;

  beforeEach(() => {
    redis = newRedis();
    prefix = testPrefix('histproc');
    store = redisStore({ redis, prefix });
  });

  afterEach(async () => {
    reader?.kill();
    await runner?.kill();
    await engine?.close();
    await store.close();
    await cleanPrefix(redis, prefix);
    await redis.quit();
    reader = undefined;
    runner = undefined;
    engine = undefined;
  });

  it('a process watching live sees every stored event, across a SIGKILL and a resume elsewhere, then exits', async () => {
    const runId = 'watched';
    runner = startChild(prefix, runId, 'execute');
    expect(await runner.waitForLine((line) => line.startsWith('HANGING'))).toBe('HANGING execute attach');

    reader = startReader(prefix, runId, 'watch');
    // The past: everything up to attach starting (stored before its execute began, invariant 1).
    await reader.line((line) => line.includes('"task":"attach"') && line.includes('"RUNNING"'));
    await runner.kill();

    engine = createEngine({
      store,
      flows: [provisionFlow(redisEffects(redis, prefix), { label: 'parent' })],
    });
    const run = await engine.resume(runId);
    expect(await run.result).toEqual(PROVISION_RESULTS);

    // The watch ends with the run and the process exits by itself: nothing of taskweave holds it open.
    await reader.line((line) => line === 'END');
    expect(await reader.exited).toBe(0);
    const history = await engine.history(runId);
    expect(events(reader)).toEqual(history);
    expect(history.map((e) => `${e.task ?? '[run]'} ${e.state}`)).toEqual([
      '[run] RUNNING',
      'reserve RUNNING',
      'reserve SUCCESS',
      'format RUNNING',
      'tag RUNNING',
      expect.stringMatching(/^(format|tag) SUCCESS$/),
      expect.stringMatching(/^(format|tag) SUCCESS$/),
      'attach RUNNING',
      // Stored RUNNING when the runner was killed; the resuming engine records executing it again.
      'attach RUNNING',
      'attach SUCCESS',
      'boot RUNNING',
      'boot SUCCESS',
      '[run] SUCCESS',
    ]);
    expect(history.map((e) => e.seq)).toEqual(history.map((_, i) => i + 1));
  });

  it('a process that does not import the flow reads the run, its structure and draws it', async () => {
    const runId = 'drawn';
    const flow = provisionFlow(redisEffects(redis, prefix));
    engine = createEngine({ store, flows: [flow] });
    await engine.run(flow, { name: 'web' }, { id: runId });

    reader = startReader(prefix, runId, 'draw');
    expect(await reader.exited).toBe(0);
    const field = (name: string) =>
      JSON.parse(reader!.lines.find((l) => l.startsWith(`${name} `))!.slice(name.length + 1));
    const info = field('INFO') as { flow: FlowStructure; tasks: Record<string, string> };
    expect(info.tasks).toEqual({
      reserve: 'SUCCESS',
      format: 'SUCCESS',
      tag: 'SUCCESS',
      attach: 'SUCCESS',
      boot: 'SUCCESS',
    });
    const stored = (await store.load(runId))!.meta;
    expect(info.flow).toMatchObject({ name: 'provision', version: '1', hash: stored.hash });
    expect(info.flow.tasks).toEqual([
      { name: 'reserve', requires: ['name'], optional: [], provides: ['slot'] },
      { name: 'format', requires: ['slot'], optional: [], provides: ['disk'] },
      { name: 'tag', requires: ['slot'], optional: [], provides: ['tags'] },
      { name: 'attach', requires: ['disk', 'tags'], optional: [], provides: ['mount'] },
      { name: 'boot', requires: ['mount'], optional: [], provides: ['vm'] },
    ]);
    expect(info.flow.edges).toEqual([
      ['reserve', 'format'],
      ['reserve', 'tag'],
      ['format', 'attach'],
      ['tag', 'attach'],
      ['attach', 'boot'],
    ]);
    // Drawn from the stored data, the same pictures as from the flow itself.
    expect(field('MERMAID')).toBe(toMermaid(flow));
    expect(field('DOT')).toBe(toDot(flow));
    // What the catalog holds is data, stored once under the structural hash.
    expect(await redis.type(`{${prefix}}:flow:${stored.hash}`)).toBe('string');
  });
});

import { describe, expect, it } from 'vitest';
import { createEngine, LeaseLostError, linear, memoryStore, type TaskEvent, task } from '../../src/index.js';
import { deferred, rejectionOf } from './engine-support.js';

/**
 * A run reports (task events, statuses) what is stored: a listener attached right after
 * `await engine.resume(id)` hears the resumed run from its first event, and an engine that lost a run
 * to another reports nothing of it after that.
 */
describe('what a run reports is what is stored', () => {
  const parked = () => {
    const started = deferred();
    const release = deferred<string>();
    return { started, release };
  };

  it('a listener attached after await engine.resume() hears the re-executed task start', async () => {
    const store = memoryStore();
    const b = parked();
    let calls = 0;
    const flow = linear('resume-listen', [
      task({ name: 'a', provides: 'a', execute: () => 'a' }),
      task({
        name: 'b',
        requires: 'a',
        execute: async () => {
          calls += 1;
          if (calls === 1) {
            b.started.resolve();
            return new Promise(() => {}); // parked until its engine lets go
          }
          return 'b';
        },
      }),
    ]);
    const first = createEngine({ store, flows: [flow] });
    const run = first.start(flow, {}, { id: 'r1' });
    await b.started.promise;
    first.abort('r1');
    await run.result.catch(() => {});

    const second = createEngine({ store, flows: [flow] });
    const resumed = await second.resume('r1');
    const events: string[] = [];
    resumed.on('task', (e: TaskEvent) => events.push(`${e.task} ${e.state}`));
    await resumed.result;
    expect(events).toEqual(['b RUNNING', 'b SUCCESS']);
    await first.close();
    await second.close();
  });

  it('a listener attached after await engine.resume() hears the revert being re-run', async () => {
    const store = memoryStore();
    const reverting = deferred();
    let revertCalls = 0;
    const flow = linear('resume-revert-listen', [
      task({
        name: 'a',
        provides: 'a',
        execute: () => 'a',
        revert: () => {
          revertCalls += 1;
          if (revertCalls === 1) {
            reverting.resolve();
            return new Promise<void>(() => {}); // parked
          }
        },
      }),
      task({
        name: 'b',
        requires: 'a',
        execute: () => {
          throw new Error('b fails');
        },
      }),
    ]);
    const first = createEngine({ store, flows: [flow] });
    const run = first.start(flow, {}, { id: 'r2' });
    await reverting.promise;
    first.abort('r2');
    await run.result.catch(() => {});

    const second = createEngine({ store, flows: [flow] });
    const resumed = await second.resume('r2');
    const events: string[] = [];
    resumed.on('task', (e: TaskEvent) => events.push(`${e.task} ${e.state}`));
    await resumed.result.catch(() => {});
    expect(events).toEqual(['a REVERTING', 'a REVERTED']);
    expect(resumed.status).toBe('REVERTED');
    await first.close();
    await second.close();
  });

  it('an engine that lost a run to another reports none of its changes after the loss', async () => {
    const store = memoryStore();
    const b = parked();
    let calls = 0;
    const flow = linear('lost-quiet', [
      task({ name: 'a', provides: 'a', execute: () => 'a' }),
      task({
        name: 'b',
        requires: 'a',
        provides: 'b',
        execute: () => {
          calls += 1;
          if (calls === 1) {
            b.started.resolve();
            return b.release.promise;
          }
          return 'b (by the second engine)';
        },
      }),
      task({ name: 'c', requires: 'b', execute: () => 'c' }),
    ]);
    const first = createEngine({ store, flows: [flow] });
    const run = first.start(flow, {}, { id: 'r3' });
    const heard: string[] = [];
    run.on('task', (e: TaskEvent) => heard.push(`${e.task} ${e.state}`));
    await b.started.promise;

    const second = createEngine({ store, flows: [flow] });
    await (await second.resume('r3')).result;
    const before = [...heard];
    b.release.resolve('b (by the first engine)'); // the first engine's task ends after it lost the run
    expect(await rejectionOf(run.result)).toBeInstanceOf(LeaseLostError);
    expect(heard).toEqual(before);
    expect(heard).toEqual(['a RUNNING', 'a SUCCESS', 'b RUNNING']);
    await first.close();
    await second.close();
  });
});

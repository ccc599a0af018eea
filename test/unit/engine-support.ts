import { Cluster } from 'ioredis';
import { afterEach } from 'vitest';
import {
  createEngine,
  createWorker,
  type Engine,
  type EngineOptions,
  type FlowRun,
  redisStore,
  type Task,
  type TaskEvent,
  type TaskOptions,
  task,
} from '../../src/index.js';
import { waitFor } from '../support/flows.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';
import { cleanClusterPrefix } from '../support/redis-cluster.js';

/**
 * Helpers for the behavioural engine tests (ports of TaskFlow's engine tests): recording tasks,
 * latches, and waiting on run events instead of sleeping.
 */

export { type Deferred, deferred } from '../support/flows.js';

/** Engines made by a test are closed after it (with the workers and stores of distributed mode). */
const engines: Engine[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/**
 * The behavioural suite runs in both modes: `TASKWEAVE_TEST_EXECUTION=distributed` (the `distributed`
 * vitest project) makes `newEngine` a distributed engine on Redis, with a worker in this process that
 * executes every flow the test starts; `distributed-cluster` (the `distributed-cluster` project) the
 * same on the test-owned Redis Cluster whose ports are in TASKWEAVE_TEST_CLUSTER.
 */
export const distributedMode =
  process.env.TASKWEAVE_TEST_EXECUTION === 'distributed' ||
  process.env.TASKWEAVE_TEST_EXECUTION === 'distributed-cluster';
const clusterPorts =
  process.env.TASKWEAVE_TEST_EXECUTION === 'distributed-cluster'
    ? (process.env.TASKWEAVE_TEST_CLUSTER ?? '').split(',').filter(Boolean).map(Number)
    : undefined;

/** Where the distributed suite keeps its runs: the Redis at REDIS_URL, or a client of the cluster. */
function suiteRedis(): { redis: string | Cluster; clean(prefix: string): Promise<void> } {
  if (!clusterPorts) {
    return {
      redis: REDIS_URL,
      async clean(prefix) {
        const redis = newRedis();
        await cleanPrefix(redis, prefix);
        await redis.quit();
      },
    };
  }
  if (clusterPorts.length === 0) {
    throw new Error(
      'Expected TASKWEAVE_TEST_CLUSTER to list the cluster ports (global-redis-cluster.ts), got none',
    );
  }
  const client = new Cluster(clusterPorts.map((port) => ({ host: '127.0.0.1', port })));
  return {
    redis: client,
    async clean(prefix) {
      await cleanClusterPrefix(client, prefix);
      await client.quit();
    },
  };
}

export function newEngine(options: EngineOptions = {}): Engine {
  // A test that brings its own store checks something of that store (resume across engines): in-process.
  if (!distributedMode || options.store) {
    const engine = createEngine(options);
    engines.push(engine);
    return engine;
  }
  const prefix = testPrefix('dsuite');
  const { redis, clean } = suiteRedis();
  const engine = createEngine({
    ...options,
    store: redisStore({ redis, prefix }),
    execution: 'distributed',
  });
  const workerStore = redisStore({ redis, prefix });
  const worker = createWorker({ store: workerStore, flows: options.flows ?? [], concurrency: 64, pollMs: 5 });
  const started = worker.start();
  engines.push(engine);
  cleanups.push(async () => {
    await started.catch(() => {});
    await worker.close();
    await workerStore.close();
    await clean(prefix);
  });
  const start: Engine['start'] = (flow, inputs, startOptions) => {
    if (typeof flow !== 'string') worker.register(flow);
    return engine.start(flow, inputs, startOptions);
  };
  return {
    ...engine,
    start,
    run: (flow, inputs, startOptions) => start(flow, inputs, startOptions).result as never,
    register: (...flows) => {
      engine.register(...flows);
      worker.register(...flows);
    },
  };
}

/**
 * A task that logs `name` when it executes and `name reverted` when it reverts (TaskFlow's SaveOrderTask).
 * Extra options override the defaults; `fail` makes execute throw `Error('Woot <name>')` after logging.
 */
export function saving(
  log: string[],
  name: string,
  options: Partial<TaskOptions> & { fail?: boolean; value?: unknown } = {},
): Task {
  const { fail, value, ...rest } = options;
  return task({
    name,
    execute: () => {
      log.push(name);
      if (fail) throw new Error(`Woot ${name}`);
      return value === undefined ? name : value;
    },
    revert: () => {
      log.push(`${name} reverted`);
    },
    ...rest,
  });
}

/** A task that always fails (TaskFlow's FailingTask). */
export function failing(log: string[], name: string, options: Partial<TaskOptions> = {}): Task {
  return saving(log, name, { ...options, fail: true });
}

/** Resolves with the first `task` event matching `task` and `state` (listen before the run can get there). */
export function nextTaskEvent(
  run: FlowRun<any>,
  name: string,
  state: TaskEvent['state'],
): Promise<TaskEvent> {
  return new Promise((resolve) => {
    const listener = (event: TaskEvent) => {
      if (event.task === name && event.state === state) {
        run.off('task', listener);
        resolve(event);
      }
    };
    run.on('task', listener);
  });
}

/** Records `task STATE` for every task event of a run. */
export function taskStates(run: FlowRun<any>): string[] {
  const states: string[] = [];
  run.on('task', (event) => states.push(`${event.task} ${event.state}`));
  return states;
}

/** The rejection of a promise (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('Expected the promise to reject, but it resolved');
}

/** The error a synchronous call throws (fails the test if it does not throw). */
export function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('Expected the call to throw, but it returned');
}

/**
 * `run.suspend()`, and in distributed mode the suspension stored before this returns: there it is a step
 * through the store, which a loaded machine may take after the completion a test releases next (that
 * completion would then start the next task). In process a suspension is recorded at once. `suspended`
 * settles once the run is suspended (after what runs has finished).
 */
export async function suspendNow(engine: Engine, run: FlowRun<any>): Promise<{ suspended: Promise<void> }> {
  const before = (await engine.get(run.id))!.seq;
  const suspended = run.suspend();
  if (distributedMode) {
    await waitFor(async () => (await engine.get(run.id))!.seq > before, 5_000, 'the suspension stored');
  }
  return { suspended };
}

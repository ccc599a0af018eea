import { SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, expect, it } from 'vitest';
import {
  createEngine,
  createWorker,
  type Engine,
  FlowFailedError,
  linear,
  redisStore,
  type Store,
  task,
  type Worker,
} from '../../src/index.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';

/**
 * OpenTelemetry in distributed execution: the starting engine records the run's span, the worker
 * (another process in production) the execute and revert spans of the tasks it runs, each carrying
 * the run id, children of the run span: its ids are stored with the run when it is created.
 */
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const redis = newRedis();
const prefix = testPrefix('dtrace');
const open: { engines: Engine[]; workers: Worker[]; stores: Store[] } = {
  engines: [],
  workers: [],
  stores: [],
};

afterEach(async () => {
  for (const w of open.workers.splice(0)) await w.close();
  for (const e of open.engines.splice(0)) await e.close();
  for (const s of open.stores.splice(0)) await s.close();
  await cleanPrefix(redis, prefix);
  exporter.reset();
});
afterAll(() => redis.disconnect());

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);

it("a distributed run's span is the starting engine's, its execute and revert spans the worker's, its children, with the run id", async () => {
  const flow = linear('dtraced', [
    task({ name: 'reserve', execute: () => 'r', revert: () => {} }),
    task({
      name: 'attach',
      retry: { attempts: 2, backoffMs: 1 },
      execute: () => {
        throw new Error('no free slot');
      },
    }),
  ]);
  const store = () => {
    const s = redisStore({ redis: REDIS_URL, prefix });
    open.stores.push(s);
    return s;
  };
  const engine = createEngine({
    store: store(),
    flows: [flow],
    execution: 'distributed',
    closeStore: false,
    tracer: provider.getTracer('engine'),
  });
  open.engines.push(engine);
  const worker = createWorker({ store: store(), flows: [flow], tracer: provider.getTracer('worker') });
  open.workers.push(worker);
  await worker.start();

  await expect(engine.run(flow, {}, { id: 'dtrace-1' })).rejects.toBeInstanceOf(FlowFailedError);
  // The run's span ends on the result's settling, a few promise turns after the caller hears it.
  await expect.poll(() => named(exporter.getFinishedSpans(), 'taskweave.run').length).toBe(1);
  const spans = exporter.getFinishedSpans();
  const runs = named(spans, 'taskweave.run');
  expect(runs).toHaveLength(1);
  expect(runs[0]!.instrumentationScope.name).toBe('engine');
  expect(runs[0]!.attributes).toMatchObject({
    'taskweave.run_id': 'dtrace-1',
    'taskweave.flow': 'dtraced',
    'taskweave.status': 'REVERTED',
  });
  expect(runs[0]!.status.code).toBe(SpanStatusCode.ERROR);

  const executes = named(spans, 'taskweave.execute');
  expect(
    executes.map((s) => [s.attributes['taskweave.task'], s.attributes['taskweave.attempt'], s.status.code]),
  ).toEqual([
    ['reserve', 1, SpanStatusCode.UNSET],
    ['attach', 1, SpanStatusCode.ERROR],
    ['attach', 2, SpanStatusCode.ERROR],
  ]);
  expect(executes[1]!.status.message).toBe('no free slot');
  const reverts = named(spans, 'taskweave.revert');
  expect(reverts.map((s) => s.attributes['taskweave.task']).sort()).toEqual(['attach', 'reserve']);
  const run = runs[0]!.spanContext();
  for (const span of [...executes, ...reverts]) {
    expect(span.instrumentationScope.name).toBe('worker');
    expect(span.spanContext().traceId).toBe(run.traceId);
    expect(span.parentSpanContext).toMatchObject({ spanId: run.spanId, isRemote: true });
    expect(span.attributes).toMatchObject({
      'taskweave.run_id': 'dtrace-1',
      'taskweave.idempotency_key': `dtrace-1:${span.attributes['taskweave.task']}`,
    });
  }
});

it('a stored trace part that is not span ids makes root spans, never a failed task', async () => {
  const flow = linear('dtrace-bad', [task({ name: 'only', execute: () => 1 })]);
  const store = redisStore({ redis: REDIS_URL, prefix });
  open.stores.push(store);
  // An engine without a tracer stores no trace part; the run's part is then forged before the worker runs.
  const engine = createEngine({ store, flows: [flow], execution: 'distributed', closeStore: false });
  open.engines.push(engine);
  const run = engine.start(flow, {}, { id: 'dtrace-2' });
  await engine.history(run.id);
  await redis.hset(`{${prefix}:dtrace-2}:parts`, 'trace', 'not json');
  const worker = createWorker({ store, flows: [flow], tracer: provider.getTracer('worker') });
  open.workers.push(worker);
  await worker.start();
  expect(await run.result).toEqual({});
  const [execute] = named(exporter.getFinishedSpans(), 'taskweave.execute');
  expect(execute?.parentSpanContext).toBeUndefined();
  expect(execute?.attributes['taskweave.run_id']).toBe('dtrace-2');
});

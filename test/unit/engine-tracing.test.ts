import { SpanStatusCode, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, EngineClosedError, linear, memoryStore, task } from '../../src/index.js';
import { deferred } from '../support/flows.js';

/** OpenTelemetry spans, checked with the SDK's in-memory exporter. */
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('taskweave-test');
afterEach(() => exporter.reset());

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('OpenTelemetry spans', () => {
  it('a run span with execute and revert spans under it, attributes, and ERROR status on failures', async () => {
    const flow = linear('traced', [
      task({ name: 'reserve', execute: () => 'r', revert: () => {} }),
      task({
        name: 'attach',
        retry: { attempts: 2, backoffMs: 1 },
        execute: () => {
          throw new Error('no free slot');
        },
      }),
    ]);
    const engine = createEngine({ tracer, flows: [flow] });
    await expect(engine.run(flow, {}, { id: 'trace-1' })).rejects.toThrow();
    await engine.close();
    const spans = exporter.getFinishedSpans();
    const [run] = named(spans, 'taskweave.run');
    expect(named(spans, 'taskweave.run')).toHaveLength(1);
    expect(run!.attributes).toMatchObject({
      'taskweave.run_id': 'trace-1',
      'taskweave.flow': 'traced',
      'taskweave.status': 'REVERTED',
    });
    expect(run!.status.code).toBe(SpanStatusCode.ERROR);

    const executes = named(spans, 'taskweave.execute');
    expect(
      executes.map((s) => [s.attributes['taskweave.task'], s.attributes['taskweave.attempt'], s.status.code]),
    ).toEqual([
      ['reserve', 1, SpanStatusCode.UNSET],
      ['attach', 1, SpanStatusCode.ERROR],
      ['attach', 2, SpanStatusCode.ERROR],
    ]);
    expect(executes[1]!.status.message).toBe('no free slot');
    expect(executes[1]!.events.map((e) => e.name)).toEqual(['exception']);
    expect(executes[0]!.attributes).toMatchObject({
      'taskweave.run_id': 'trace-1',
      'taskweave.flow': 'traced',
      'taskweave.idempotency_key': 'trace-1:reserve',
    });
    const reverts = named(spans, 'taskweave.revert');
    expect(reverts.map((s) => s.attributes['taskweave.task']).sort()).toEqual(['attach', 'reserve']);
    for (const span of [...executes, ...reverts]) {
      expect(parentOf(span)).toBe(run!.spanContext().spanId);
      expect(span.spanContext().traceId).toBe(run!.spanContext().traceId);
    }
  });

  it("after a resume, execute spans are children of the resuming engine's run span, with the same run id", async () => {
    const store = memoryStore();
    const hold = deferred<string>();
    let holding = true; // the first engine's execute (if it starts) never ends
    const flow = linear('resumable', [
      task({ name: 'first', execute: () => 'one' }),
      task({
        name: 'second',
        execute: () => (holding ? hold.promise : 'two'),
      }),
    ]);
    const first = createEngine({ tracer, store, flows: [flow], closeStore: false });
    const run = first.start(flow, {}, { id: 'trace-2' });
    await new Promise<void>((resolve) =>
      run.on('task', (e) => e.task === 'second' && e.state === 'RUNNING' && resolve()),
    );
    await first.close();
    await expect(run.result).rejects.toBeInstanceOf(EngineClosedError);
    exporter.reset();
    holding = false;

    const second = createEngine({ tracer, store, flows: [flow] });
    await (await second.resume('trace-2')).result;
    await second.close();
    const spans = exporter.getFinishedSpans();
    const [resumed] = named(spans, 'taskweave.run');
    expect(resumed!.attributes).toMatchObject({
      'taskweave.run_id': 'trace-2',
      'taskweave.resumed': true,
      'taskweave.status': 'SUCCESS',
    });
    expect(resumed!.status.code).toBe(SpanStatusCode.OK);
    const executes = named(spans, 'taskweave.execute');
    expect(executes.map((s) => s.attributes['taskweave.task'])).toEqual(['second']);
    expect(parentOf(executes[0]!)).toBe(resumed!.spanContext().spanId);
    expect(executes[0]!.attributes['taskweave.run_id']).toBe('trace-2');
  });

  it('without createEngine({ tracer }), spans go to the global tracer provider', async () => {
    const flow = linear('global', [task({ name: 'only', execute: () => 1 })]);
    trace.setGlobalTracerProvider(provider);
    try {
      const engine = createEngine({ flows: [flow] });
      await engine.run(flow, {}, { id: 'trace-3' });
      await engine.close();
    } finally {
      trace.disable(); // back to no provider, for the other tests of this worker
    }
    const spans = exporter.getFinishedSpans();
    const [run] = named(spans, 'taskweave.run');
    expect(run!.attributes).toMatchObject({ 'taskweave.run_id': 'trace-3', 'taskweave.flow': 'global' });
    expect(run!.instrumentationScope.name).toBe('taskweave');
    const [execute] = named(spans, 'taskweave.execute');
    expect(execute!.attributes['taskweave.task']).toBe('only');
    expect(parentOf(execute!)).toBe(run!.spanContext().spanId);
  });
});

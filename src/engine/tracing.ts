import { createRequire } from 'node:module';
import type { EffectSettle } from '../compile/effect-actor.js';

/**
 * OpenTelemetry spans for runs, without depending on OpenTelemetry: `@opentelemetry/api` is an
 * optional peer dependency, loaded (synchronously, once) only when a run starts and no `tracer` was
 * given. Without it nothing is traced and nothing is paid but that one failed lookup.
 *
 * Spans: `taskweave.run` per run driven by an engine (a resumed run gets a new one, with the same
 * `taskweave.run_id`), and `taskweave.execute` / `taskweave.revert` per effect, children of the run's
 * span. Failures are recorded on the span with status ERROR. A distributed run's span is in the
 * process that started it: its span context is stored with the run (`parentOf`, the run's `trace` part),
 * and a worker makes its effect spans children of it (a remote parent); without one they are roots
 * that carry the run id.
 */

/** The part of an OpenTelemetry `Span` taskweave uses. */
export interface SpanLike {
  /** False for a no-op span (no SDK registered): then nothing below it is traced. */
  isRecording?(): boolean;
  setAttribute(key: string, value: string | number | boolean): unknown;
  /** Its ids, to make spans in other processes its children. */
  spanContext?(): SpanIds;
  setStatus(status: { code: number; message?: string }): unknown;
  recordException(exception: Error): unknown;
  end(): void;
}

/** The part of an OpenTelemetry `Tracer` taskweave uses (any `Tracer` fits). */
export interface TracerLike {
  startSpan(
    name: string,
    options?: { attributes?: Record<string, string | number | boolean> },
    context?: unknown,
  ): SpanLike;
}

/** A span's ids (OpenTelemetry's `SpanContext`, without its trace state). */
interface SpanIds {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

interface OtelApi {
  trace: {
    getTracer(name: string, version?: string): TracerLike;
    setSpan(context: unknown, span: SpanLike): unknown;
    setSpanContext(context: unknown, ids: SpanIds & { isRemote: boolean }): unknown;
  };
  context: { active(): unknown; with<T>(context: unknown, fn: () => T): T };
  SpanStatusCode: { OK: number; ERROR: number };
}

let api: OtelApi | null | undefined;

/** `@opentelemetry/api`, or null when it is not installed (looked up once). */
function otel(): OtelApi | null {
  if (api === undefined) {
    try {
      api = createRequire(import.meta.url)('@opentelemetry/api') as OtelApi;
    } catch {
      api = null;
    }
  }
  return api;
}

export interface EffectSpanInput {
  runId: string;
  task: string;
  attempt: number;
  idempotencyKey: string;
  /** The run span's ids as stored with a distributed run (`parentOf`), for a worker's spans. */
  traceParent?: string;
}

export interface RunTracing {
  /** A run starts being driven here: its span opens; `settled` closes it with the run's outcome. */
  run(runId: string, flow: string, settled: Promise<unknown>, status: () => string, resumed: boolean): void;
  /**
   * Run one execute or revert inside its span, a child of its run's span; its outcome goes on to
   * `settle`. `local`: the run is driven here (its span, if it records, is this tracing's), so a run
   * with no recording span here is untraced and its effects run as they are, with no span of their own.
   */
  effect<T>(
    kind: 'execute' | 'revert',
    input: EffectSpanInput,
    run: (settle: EffectSettle<T>) => void,
    settle: EffectSettle<T>,
    local?: boolean,
  ): void;
  /** The run span's ids as text to store with the run, or undefined when the run is not traced. */
  parentOf(runId: string): string | undefined;
}

/** Tracing for an engine, or undefined when there is no tracer to trace with (no cost then). */
export function createRunTracing(tracer: TracerLike | undefined): RunTracing | undefined {
  const found = otel();
  if (!found) return undefined;
  const traces = found.trace;
  const runs = new Map<string, { span: SpanLike; context: unknown; flow: string }>();
  const tracerOf = () => tracer ?? traces.getTracer('taskweave');
  const fail = (span: SpanLike, error: unknown) => {
    const e = error instanceof Error ? error : new Error(String(error));
    span.recordException(e);
    span.setStatus({ code: found.SpanStatusCode.ERROR, message: e.message });
  };
  /** A run span in another process, from the ids stored with the run; undefined for anything else. */
  const remoteParent = (text: string | undefined) => {
    if (text === undefined) return undefined;
    try {
      const { t, s, f } = JSON.parse(text) as { t?: unknown; s?: unknown; f?: unknown };
      if (typeof t !== 'string' || typeof s !== 'string' || typeof f !== 'number') return undefined;
      const ids = { traceId: t, spanId: s, traceFlags: f, isRemote: true };
      return { context: traces.setSpanContext(found.context.active(), ids), flow: undefined };
    } catch {
      return undefined; // not ours to trust: the spans are roots, as without a parent
    }
  };
  return {
    run(runId, flow, settled, status, resumed) {
      const span = tracerOf().startSpan('taskweave.run', {
        attributes: { 'taskweave.run_id': runId, 'taskweave.flow': flow, 'taskweave.resumed': resumed },
      });
      // Nothing records spans (no SDK registered, no tracer given): neither this run nor its effects
      // are traced (it is not in `runs`: see effect's `local`), so an engine without tracing pays one
      // no-op span per run, not one per task, and keeps nothing per run.
      if (span.isRecording?.() === false) {
        span.end();
        return;
      }
      runs.set(runId, { span, context: traces.setSpan(found.context.active(), span), flow });
      settled
        .then(
          () => span.setStatus({ code: found.SpanStatusCode.OK }),
          (error: unknown) => fail(span, error),
        )
        .finally(() => {
          span.setAttribute('taskweave.status', status());
          span.end();
          if (runs.get(runId)?.span === span) runs.delete(runId);
        });
    },
    parentOf(runId) {
      const ids = runs.get(runId)?.span.spanContext?.();
      return ids ? JSON.stringify({ t: ids.traceId, s: ids.spanId, f: ids.traceFlags }) : undefined;
    },
    effect(kind, input, run, settle, local = false) {
      const own = runs.get(input.runId);
      if (!own && local) return run(settle);
      const parent = own ?? remoteParent(input.traceParent);
      const span = tracerOf().startSpan(
        `taskweave.${kind}`,
        {
          attributes: {
            'taskweave.run_id': input.runId,
            ...(parent?.flow ? { 'taskweave.flow': parent.flow } : {}),
            'taskweave.task': input.task,
            'taskweave.attempt': input.attempt,
            'taskweave.idempotency_key': input.idempotencyKey,
          },
        },
        parent?.context ?? found.context.active(),
      );
      // A worker's span that records nothing (no SDK registered): the effect runs as it is.
      if (!runs.has(input.runId) && span.isRecording?.() === false) {
        span.end();
        return run(settle);
      }
      // The task's own spans (HTTP calls, queries) nest under this one when a context manager is set up.
      found.context.with(traces.setSpan(parent?.context ?? found.context.active(), span), () =>
        run({
          done: (value) => {
            span.end();
            settle.done(value);
          },
          fail: (error) => {
            fail(span, error);
            span.end();
            settle.fail(error);
          },
        }),
      );
    },
  };
}

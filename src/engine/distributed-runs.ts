import { initialTransition } from 'xstate';
import type { CompiledFlow } from '../compile/compile.js';
import type { RunContext, RunInput } from '../compile/run-context.js';
import {
  EngineClosedError,
  RunExistsError,
  RunNotFoundError,
  RunSuspendedError,
  TaskweaveError,
} from '../errors.js';
import { decodeValue } from '../model/codec.js';
import { fromFailureRecord } from '../model/failure-record.js';
import { isFinished, type RunStatus } from '../model/run-status.js';
import type { TaskState } from '../model/task-states.js';
import type { RunQueues } from '../store/redis-queues.js';
import type { RunEvent } from '../store/run-history.js';
import type { RunMeta, Store } from '../store/store.js';
import { settle } from './active-run.js';
import { applyEvent, loadRun } from './distributed-apply.js';
import { DISTRIBUTED_OWNER, plan } from './distributed-step.js';
import type { FlowRun } from './flow-run.js';
import { TRACE_PART, taskPart } from './snapshot-parts.js';

/**
 * The engine's side of distributed execution: it creates runs (their first ready tasks dispatched by
 * the same write), sends commands (suspend, resume, cancel, rollback) as events applied to the stored
 * run, and follows each run it hands out through the run's history, so `run.status`, `run.on` and
 * `run.result` reflect the stored run whichever processes did the work. It executes nothing itself.
 */

type Command = 'SUSPEND' | 'RESUME' | 'CANCEL' | 'ROLLBACK';

export interface DistributedRunsOptions {
  store: Store;
  queues: RunQueues;
  compiledFor(meta: RunMeta): CompiledFlow;
  /** Ends every follow when the engine closes. */
  closing: AbortSignal;
  /**
   * Called once for each run followed here, before a new run's create (the engine's tracing opens its
   * run span, whose ids `traceParent` then gives the create to store).
   */
  following?(run: FlowRun<any>, flow: string, resumed: boolean): void;
  /** The run span's ids to store with a new run, so workers' spans are its children. */
  traceParent?(runId: string): string | undefined;
}

export class DistributedRuns {
  /** Creates in flight, by run id: reading a run's history waits for its create. */
  private readonly creating = new Map<string, Promise<void>>();
  private readonly stops = new Set<AbortController>();
  /** Runs followed here, by id. */
  private readonly followed = new Map<string, FlowRun<any>>();

  constructor(private readonly options: DistributedRunsOptions) {}

  created(runId: string): Promise<void> | undefined {
    return this.creating.get(runId);
  }

  /** Store a new run with its first ready tasks dispatched (one script), then follow it. */
  start(compiled: CompiledFlow, run: FlowRun<any>, meta: RunMeta, input: RunInput): void {
    // The run's span opens before its create, which stores the span's ids for the workers.
    this.options.following?.(run, compiled.flow.name, false);
    const created = this.create(compiled, meta, input, this.options.traceParent?.(run.id)).then(
      (status) => {
        if (!status) return run.finish({ error: new RunExistsError(run.id) });
        // Stored (acknowledged) with its first tasks dispatched: a worker may run them before the
        // history's first event is read here, and the run must not look PENDING meanwhile.
        run.setStatus(status);
        this.follow(compiled, run, 0);
      },
      (error: Error) => run.finish({ error }),
    );
    const settled = created.finally(() => {
      if (this.creating.get(run.id) === settled) this.creating.delete(run.id);
    });
    this.creating.set(run.id, settled);
  }

  /** The status the run was stored with, or false when a run of that id exists. */
  private async create(
    compiled: CompiledFlow,
    meta: RunMeta,
    input: RunInput,
    traceParent: string | undefined,
  ): Promise<RunStatus | false> {
    const [snapshot, actions] = initialTransition(compiled.machine, input);
    const planned = plan(compiled, undefined, snapshot, actions, input.at ?? Date.now());
    const reply = await this.options.queues.write({
      mode: 'create',
      runId: meta.id,
      token: 1,
      seq: 0,
      meta: { ...meta, status: planned.status, owner: DISTRIBUTED_OWNER },
      set: traceParent === undefined ? planned.set : { ...planned.set, [TRACE_PART]: traceParent },
      events: planned.events,
      dispatch: planned.dispatch,
      addTimers: planned.addTimers,
      removeTimers: [],
    });
    if (reply.ok) return planned.status;
    if (reply.reason === 'EXISTS') return false;
    throw new TaskweaveError(`Expected run \`${meta.id}\` to be created, got ${reply.reason}.`);
  }

  /** Apply a command to the stored run (from any process). */
  async command(runId: string, type: Command): Promise<void> {
    const applied = await applyEvent({
      queues: this.options.queues,
      store: this.options.store,
      runId,
      compiledFor: this.options.compiledFor,
      decide: () => ({ type, at: Date.now() }),
      at: () => Date.now(),
    });
    if (applied.kind === 'gone') {
      throw new TaskweaveError(`Expected distributed run \`${runId}\` to take ${type}, got: ${applied.why}.`);
    }
  }

  /** A stored distributed run, followed from now on; a suspended one is resumed first. */
  async resume(runId: string, run: FlowRun<any>): Promise<void> {
    const loaded = await loadRun(this.options.store, runId, this.options.compiledFor);
    if (!loaded) throw new RunNotFoundError(runId);
    const context = loaded.snapshot.context as RunContext;
    if (isFinished(context.status)) {
      run.setStatus(context.status);
      run.finish(settle(loaded.compiled, context) as never);
      return;
    }
    const after = await this.lastSeq(runId);
    if (context.status === 'SUSPENDED' || context.suspended) await this.command(runId, 'RESUME');
    else run.setStatus(context.status);
    this.options.following?.(run, loaded.compiled.flow.name, true);
    this.follow(loaded.compiled, run, after);
  }

  /** Roll a stored distributed run back; resolves once it is REVERTED. */
  async revert(runId: string, run: FlowRun<any>): Promise<void> {
    const loaded = await loadRun(this.options.store, runId, this.options.compiledFor);
    if (!loaded) throw new RunNotFoundError(runId);
    const after = await this.lastSeq(runId);
    await this.command(runId, 'ROLLBACK');
    this.options.following?.(run, loaded.compiled.flow.name, true);
    this.follow(loaded.compiled, run, after);
  }

  private async lastSeq(runId: string): Promise<number> {
    const events = (await this.options.store.history?.(runId)) ?? [];
    return events.at(-1)?.seq ?? 0;
  }

  /** Report the stored run's changes on `run` until it ends (or suspends). */
  private follow(compiled: CompiledFlow, run: FlowRun<any>, after: number): void {
    this.followed.set(run.id, run);
    run.attach({
      suspend: async () => {
        await this.command(run.id, 'SUSPEND');
        await run.result.catch(() => {});
      },
      cancel: async () => {
        await this.command(run.id, 'CANCEL');
        await run.result.catch(() => {});
      },
    });
    void this.watch(compiled, run, after)
      .catch((error: Error) => run.finish({ error }))
      .finally(() => {
        if (this.followed.get(run.id) === run) this.followed.delete(run.id);
      });
  }

  private async watch(compiled: CompiledFlow, run: FlowRun<any>, after: number): Promise<void> {
    // One stop per followed run, aborted by close(): thousands of runs followed at once would otherwise
    // each hang a listener on the engine's one closing signal.
    const stop = new AbortController();
    this.stops.add(stop);
    // Progress is published by whichever worker runs the task, never stored: heard while followed.
    const stopProgress = this.options.store.listenProgress?.(run.id, ({ task, fraction, details }) =>
      run.emitProgress({ task, fraction, ...(details === undefined ? {} : { details }) }),
    );
    try {
      await this.report(compiled, run, after, stop.signal);
    } finally {
      stopProgress?.();
      this.stops.delete(stop);
    }
  }

  /** The stored run's events, as they come, on `run`; settles it at the run's end or suspension. */
  private async report(compiled: CompiledFlow, run: FlowRun<any>, after: number, signal: AbortSignal) {
    const { store, closing } = this.options;
    if (!store.watch)
      throw new TaskweaveError('Expected a store that keeps run history, got one without watch.');
    for await (const event of store.watch(run.id, { after, signal })) {
      if (event.task === undefined) {
        const status = event.state as RunStatus;
        run.setStatus(status);
        if (status === 'SUSPENDED') return run.finish({ error: new RunSuspendedError(run.id) });
        if (isFinished(status)) {
          const loaded = await loadRun(store, run.id, this.options.compiledFor);
          if (!loaded) throw new RunNotFoundError(run.id);
          const context = { ...(loaded.snapshot.context as RunContext), status };
          return run.finish(settle(compiled, context) as never);
        }
      } else if (run.hasListeners('task')) {
        run.emitTask(await this.taskEvent(run.id, event));
      }
    }
    run.finish({ error: closing.aborted ? new EngineClosedError(run.id) : new RunNotFoundError(run.id) });
  }

  private async taskEvent(runId: string, event: RunEvent) {
    const state = event.state as TaskState;
    const base = { task: event.task!, state, attempt: event.attempt ?? 0 };
    if (event.error) return { ...base, error: fromFailureRecord(event.error) };
    if (state !== 'SUCCESS') return base;
    // The result is in the stored record, not in the history.
    const stored = await this.options.store.load(runId);
    const loaded = stored && loadRunRecords(stored.parts, event.task!);
    return loaded ? { ...base, result: decodeValue(loaded.r) } : base;
  }

  close(): void {
    for (const stop of this.stops) stop.abort();
    for (const run of this.followed.values()) run.finish({ error: new EngineClosedError(run.id) });
  }
}

/** A task's stored record straight from its part (no need to join the whole snapshot). */
function loadRunRecords(parts: Record<string, string>, task: string): { r?: unknown } | undefined {
  const text = parts[taskPart(task)];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as { r?: unknown };
  } catch {
    return undefined;
  }
}

import { type Actor, type AnyStateMachine, createActor, type InspectionEvent, type Observer } from 'xstate';
import type { CompiledFlow, RunStepEvent } from '../compile/compile.js';
import type { RunContext, RunInput } from '../compile/run-context.js';
import { allRecords, recordOf } from '../compile/task-records.js';
import { CancelledError, FlowFailedError, RevertFailedError, RunSuspendedError } from '../errors.js';
import { decodeValue } from '../model/codec.js';
import { fromFailureRecord } from '../model/failure-record.js';
import { FINISHED_STATUSES, type RunMeta, type RunStatus, type Store } from '../store/store.js';
import type { FlowRun, RunControls } from './flow-run.js';
import { runResults, taskFailures } from './run-info.js';
import { RunWriter } from './run-writer.js';
import { splitSnapshot } from './snapshot-parts.js';
import { FAILED_STATES } from './write-events.js';

export interface ActiveRunOptions {
  compiled: CompiledFlow;
  machine: AnyStateMachine;
  store: Store;
  meta: RunMeta;
  token: number;
  seq: number;
  /** A stored snapshot to rehydrate; absent for a fresh start. */
  snapshot: unknown;
  input: RunInput;
  run: FlowRun<any>;
  inspect: Observer<InspectionEvent> | ((event: InspectionEvent) => void) | undefined;
  unavailableDeadlineMs: number;
  /** A fresh run's parts besides its snapshot (inputs): its first write creates it (see RunWriter). */
  create?: Record<string, string>;
  /** Called once when the run leaves this engine (finished, suspended, lost, closed). */
  onExit(): void;
}

const ENDED: ReadonlySet<RunStatus> = new Set([...FINISHED_STATUSES, 'SUSPENDED']);

/** One run driven by this engine: its actor, its writer, and how its end settles the FlowRun. */
export class ActiveRun implements RunControls {
  readonly writer: RunWriter;
  private readonly actor: Actor<AnyStateMachine>;
  private exited = false;
  private ending = false;
  private readonly waiters: (() => void)[] = [];
  /**
   * What the run reports (task events, statuses) waits here until the write that stored it is
   * acknowledged: listeners hear only what is durable. A fresh run whose id turns out to be taken
   * never existed and reports nothing; a run lost to another engine (or whose stored data vanished)
   * reports nothing after the last write it stored.
   */
  private pending: { mark: number; event: () => void }[] = [];
  /**
   * Whether reports may reach listeners yet: a resumed run's first events wait for the caller of
   * `engine.resume` to attach its listeners (the turn after the resume resolves).
   */
  private open: boolean;
  /** Until reports have flowed once, events are queued even with no listener yet (they may come). */
  private early = true;
  private lastStatus: RunStatus | undefined;

  /** The run this engine drives (what `start` and `resume` returned). */
  readonly run: FlowRun<any>;
  private readonly compiled: CompiledFlow;
  private readonly onExit: () => void;
  /** A rehydrated run's stored context, until `start` has read it. */
  private stored: RunContext | undefined;

  // The options object is not kept: a run holds only what it needs for its life.
  constructor(options: ActiveRunOptions) {
    const { compiled, run } = options;
    this.run = run;
    this.compiled = compiled;
    this.onExit = options.onExit;
    this.stored = (options.snapshot as { context?: RunContext } | undefined)?.context;
    // A run's first write here carries every part: a fresh run's create; a resumed run's parts once
    // whole, so a run stored before child actors had parts of their own (snapshot-parts.ts) is rewritten.
    let firstWrite = true;
    const fresh = options.snapshot === undefined;
    this.actor = createActor(options.machine, {
      input: options.input,
      ...(options.snapshot ? { snapshot: options.snapshot as never } : {}),
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    this.writer = new RunWriter({
      store: options.store,
      runId: options.meta.id,
      token: options.token,
      seq: options.seq,
      meta: options.meta,
      unavailableDeadlineMs: options.unavailableDeadlineMs,
      ...(options.create ? { create: options.create } : {}),
      snapshot: (dirty) => {
        const snapshot = this.actor.getSnapshot();
        const parts = firstWrite
          ? splitSnapshot(
              snapshot,
              compiled.graph,
              compiled.graph.tasks.map((t) => t.name),
              { create: fresh },
            )
          : splitSnapshot(snapshot, compiled.graph, dirty.tasks, { lists: dirty });
        firstWrite = false;
        return { parts, status: (snapshot.context as RunContext).status };
      },
      onFatal: (error) => this.exit({ error }),
      onDurable: (mark) => this.flush(mark),
    });
    this.open = options.snapshot === undefined;
    // The reducer's steps say what changed: the writer stores exactly that, listeners hear it once stored.
    this.actor.on('step', (step: RunStepEvent) => {
      this.writer.recordStep(step);
      // Early on, listeners may still be attached (start() or resume() returned the run only just now).
      if (!this.early && !run.hasListeners('task')) return;
      for (const { task, state, attempt, record } of step.changed) {
        const failed = record.f && FAILED_STATES.has(state);
        const event = {
          task,
          state,
          attempt,
          ...(state === 'SUCCESS' ? { result: decodeValue(record.r) } : {}),
          ...(failed ? { error: fromFailureRecord(record.f!) } : {}),
        };
        this.report(() => run.emitTask(event));
      }
    });
    this.actor.subscribe({
      next: (snapshot) => this.onSnapshot(snapshot.context as RunContext),
      error: (error) => this.exit({ error: error as Error }),
    });
  }

  get context(): RunContext {
    return this.actor.getSnapshot().context as RunContext;
  }

  /** Start the actor; a rehydrated one is then told what to do first (its entry actions do not re-run). */
  start(first?: 'RESUME' | 'ROLLBACK'): void {
    // Report the run's state before its first task's events, which the actor emits as it starts.
    const { stored } = this;
    this.stored = undefined;
    const status = first === 'ROLLBACK' || stored?.phase === 'revert' ? 'REVERTING' : 'RUNNING';
    if (!this.open) {
      setImmediate(() => {
        this.open = true;
        this.flush(this.durable);
      });
    }
    this.lastStatus = status;
    this.report(() => this.run.setStatus(status));
    // A resumed run's busy tasks start again (their execute or revert is re-run): their states are
    // reported as they start, though the stored state does not change.
    if (stored) {
      for (const node of this.compiled.graph.tasks) {
        const { s: state, a: attempt } = recordOf(this.compiled.graph, stored, node.name);
        // A rollback stops executes in flight rather than start them again (see the scheduler).
        if (state === 'REVERTING' || (state === 'RUNNING' && first !== 'ROLLBACK')) {
          // The history records the new start too: an operator reading it sees the task ran twice.
          this.writer.recordTask({ task: node.name, state, attempt }, Date.now());
          this.report(() => this.run.emitTask({ task: node.name, state, attempt }));
        }
      }
    }
    this.actor.start();
    this.writer.touch();
    // Commands carry their time: the machine's transitions read no clock.
    // A rollback right after a takeover: the executes the run shows in flight died with their process.
    if (first)
      this.actor.send({
        type: first,
        at: Date.now(),
        ...(first === 'ROLLBACK' ? { interrupted: true } : {}),
      });
  }

  /** Tell the FlowRun once what changed is stored (see `pending`). */
  private report(event: () => void): void {
    this.pending.push({ mark: this.writer.mark(), event });
  }

  /** The last mark acknowledged by the store. */
  private durable = 0;

  private flush(mark: number): void {
    this.durable = Math.max(this.durable, mark);
    // A run that ended meanwhile (its actor failed, it was lost) reports nothing after its result.
    if (!this.open || this.exited) return;
    // In order; what a listener causes while this runs lines up behind what is reported.
    while (this.pending.length > 0 && this.pending[0]!.mark <= this.durable) this.pending.shift()!.event();
    this.early = false;
  }

  send(type: 'SUSPEND' | 'CANCEL' | 'ROLLBACK'): void {
    if (this.exited) return;
    this.actor.send({ type, at: Date.now() });
    // A command may change only run fields (a SUSPEND while tasks run): that transition is stored too.
    this.writer.touch();
  }

  /** `run.suspend()`: let running tasks finish, store the run and stop; resolves once it has left. */
  async suspend(): Promise<void> {
    this.send('SUSPEND');
    await this.exitedPromise();
  }

  /** `run.cancel()`: abort running tasks and revert what ran; resolves once the run has left. */
  async cancel(): Promise<void> {
    this.send('CANCEL');
    await this.exitedPromise();
  }

  /** Resolves when the run has left this engine. */
  exitedPromise(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stop at once: abort running tasks, write nothing more. */
  abort(error: Error): void {
    this.writer.kill(error);
    this.exit({ error });
  }

  private onSnapshot(context: RunContext): void {
    if (this.exited) return;
    const { status } = context;
    if (status !== this.lastStatus) {
      this.lastStatus = status;
      this.report(() => this.run.setStatus(status));
    }
    if (this.ending || !ENDED.has(context.status)) return;
    this.ending = true;
    // The end is reported only once it is durable (invariant 1).
    this.writer.barrier().then(
      () => {
        this.ending = false;
        const now = this.context;
        // A command sent meanwhile (RESUME or ROLLBACK of a rehydrated run whose stored status was an
        // end) may have moved the run on: then wait for its next end rather than settling on this one.
        if (now === context) this.exit({ context });
        else this.onSnapshot(now);
      },
      (error: Error) => this.exit({ error }),
    );
  }

  private exit(outcome: { context: RunContext } | { error: Error }): void {
    if (this.exited) return;
    if ('context' in outcome) {
      // A resumed run that ends before its caller could listen settles once it could (see `open`).
      if (!this.open) {
        setImmediate(() => this.exit(outcome));
        return;
      }
      this.flush(this.durable);
    }
    this.exited = true;
    this.actor.stop(); // aborts the signals of running tasks
    const { run } = this;
    if ('error' in outcome) run.finish({ error: outcome.error });
    else run.finish(settle(this.compiled, outcome.context));
    this.onExit();
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

/** How a run's end settles `run.result`. */
export function settle(
  compiled: CompiledFlow,
  context: RunContext,
): { value: Record<string, unknown> } | { error: Error } {
  switch (context.status) {
    case 'SUCCESS':
      return { value: runResults(compiled, allRecords(context)) };
    case 'SUSPENDED':
      return { error: new RunSuspendedError(context.runId) };
    case 'FAILURE':
      return {
        error: new RevertFailedError(
          context.runId,
          taskFailures(context.revertFailures),
          taskFailures(context.failures),
          leftAsTheyAre(compiled, context),
        ),
      };
    default:
      if (context.cancelled)
        return { error: new CancelledError(context.runId, notReverted(compiled, context)) };
      return {
        error: new FlowFailedError(
          context.runId,
          taskFailures(context.failures),
          notReverted(compiled, context),
        ),
      };
  }
}

/**
 * After a revert threw: tasks that ran and were not reverted (their revert threw, waited on one that
 * threw, or they have none), so an operator knows what to clean up.
 */
function leftAsTheyAre(compiled: CompiledFlow, context: RunContext): string[] {
  const records = allRecords(context);
  return compiled.graph.tasks
    .filter((node) => {
      const record = records[node.name];
      return record?.st !== undefined && (record.s !== 'REVERTED' || !node.task.revert);
    })
    .map((node) => node.name);
}

/** Tasks that ran (an execute started) but have no revert: their effects stay after a rollback. */
function notReverted(compiled: CompiledFlow, context: RunContext): string[] {
  const records = allRecords(context);
  return compiled.graph.tasks
    .filter((node) => !node.task.revert && records[node.name]?.st !== undefined)
    .map((node) => node.name);
}

import type { AnyMachineSnapshot, EventObject } from 'xstate';
import type { CompiledFlow } from '../compile/compile.js';
import { SnapshotCorruptError, StoreUnavailableError, TaskweaveError } from '../errors.js';
import type { QueueWrite, RunQueues } from '../store/redis-queues.js';
import type { RunMeta, Store, StoredRun } from '../store/store.js';
import { DISTRIBUTED_OWNER, type PlannedStep, restore, step } from './distributed-step.js';
import { holdsChildren, joinSnapshot } from './snapshot-parts.js';

/**
 * Applying one event to a stored distributed run from any process: load (or reuse what this process
 * wrote last), one pure transition, one write that is a compare-and-set on the run's version. Another
 * process writing first makes the write fail with nothing written: reload and apply again, a bounded
 * number of times. Whether the event still applies is decided on the snapshot it is applied to
 * (`decide`), so applying the same outcome twice changes nothing.
 */

/** A run as this process last read or wrote it. */
export interface LoadedRun {
  stored: StoredRun;
  compiled: CompiledFlow;
  snapshot: AnyMachineSnapshot;
}

export type Applied =
  /** Written: the step's state, history, dispatches and acknowledgement. */
  | { kind: 'applied'; run: LoadedRun; step: PlannedStep }
  /** `decide` declined, or the machine ignored the event: nothing to write. */
  | { kind: 'unchanged'; run: LoadedRun | undefined }
  /** The message is no longer this worker's (another one claimed it): its outcome is dropped. */
  | { kind: 'fenced' }
  /** No such run, or one an engine took over (it drives it in-process now). */
  | { kind: 'gone'; why: string };

export interface ApplyOptions {
  queues: RunQueues;
  store: Store;
  runId: string;
  /** The compiled flow of a stored run (by name and structural hash); throws for an unknown one. */
  compiledFor(meta: RunMeta): CompiledFlow;
  /** The event to apply to this snapshot, or undefined when it no longer applies. */
  decide(run: LoadedRun): EventObject | undefined;
  /** The time of the step (its status events). */
  at(): number;
  ack?: QueueWrite['ack'];
  removeTimers?: readonly string[];
  /** A run this process read or wrote before: tried first (a stale one costs one refused write). */
  cached?: LoadedRun;
  /** @default 20 */
  retries?: number;
  /** Called each time another writer got there first (the event is then applied again). */
  onConflict?(): void;
}

export async function loadRun(
  store: Store,
  runId: string,
  compiledFor: (meta: RunMeta) => CompiledFlow,
): Promise<LoadedRun | undefined> {
  const stored = await store.load(runId);
  if (!stored) return undefined;
  const compiled = compiledFor(stored.meta);
  const persisted = joinSnapshot(runId, compiled, stored.parts);
  if (!persisted) throw new SnapshotCorruptError(runId, 'the run was created without a first snapshot');
  return { stored, compiled, snapshot: restore(compiled.machine, persisted) };
}

export async function applyEvent(options: ApplyOptions): Promise<Applied> {
  const { queues, runId } = options;
  const retries = options.retries ?? 20;
  let run = options.cached;
  for (let attempt = 0; attempt <= retries; attempt++) {
    run ??= await loadRun(options.store, runId, options.compiledFor);
    if (!run) return { kind: 'gone', why: 'no such run' };
    if (run.stored.meta.owner !== DISTRIBUTED_OWNER) {
      return { kind: 'gone', why: `run is driven by engine ${run.stored.meta.owner ?? '(none)'}` };
    }
    const event = options.decide(run);
    const planned = event
      ? step(run.compiled, run.snapshot, event, options.at(), holdsChildren(run.stored.parts))
      : undefined;
    if (!planned) {
      // Nothing to write; a cached run may be stale, so only a fresh read may say "unchanged".
      if (run === options.cached && attempt === 0) {
        run = undefined;
        continue;
      }
      return { kind: 'unchanged', run };
    }
    const meta: RunMeta = {
      ...run.stored.meta,
      status: planned.status,
      updatedAt: Date.now(),
      owner: DISTRIBUTED_OWNER,
    };
    const reply = await queues.write({
      mode: 'save',
      runId,
      token: run.stored.token,
      seq: run.stored.seq + 1,
      meta,
      set: planned.set,
      events: planned.events,
      ...(options.ack ? { ack: options.ack } : {}),
      dispatch: planned.dispatch,
      addTimers: planned.addTimers,
      removeTimers: options.removeTimers ?? [],
    });
    if (reply.ok) {
      await queues.publishAborts(planned.aborted);
      const stored: StoredRun = {
        meta,
        token: run.stored.token,
        seq: run.stored.seq + 1,
        parts: { ...run.stored.parts, ...planned.set },
      };
      return { kind: 'applied', run: { ...run, stored, snapshot: planned.next }, step: planned };
    }
    switch (reply.reason) {
      case 'FENCED':
        return { kind: 'fenced' };
      case 'VERSION':
      case 'LEASE':
        // Another process wrote first (or claimed the run): read it again and decide again.
        run = undefined;
        if (reply.reason === 'VERSION') options.onConflict?.();
        if (attempt > 2) await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
        continue;
      case 'CORRUPT':
        throw new SnapshotCorruptError(runId, reply.detail ?? 'not a run');
      default:
        throw new TaskweaveError(`Expected a write of run \`${runId}\` to apply, got ${reply.reason}.`);
    }
  }
  throw new StoreUnavailableError(
    `Run \`${runId}\`: ${retries + 1} writes in a row lost to other writers; the outcome was not applied (its message stays pending and is delivered again).`,
  );
}

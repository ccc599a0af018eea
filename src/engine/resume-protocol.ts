import type { CompiledFlow } from '../compile/compile.js';
import { isFinished, type ReadOptions, type RunMeta, type Store, type StoredRun } from '../store/store.js';
import { type ActiveRun, type ActiveRunOptions, settle } from './active-run.js';
import type { DistributedRuns } from './distributed-runs.js';
import type { FlowRegistry } from './flow-registry.js';
import { FlowRun } from './flow-run.js';
import { INPUTS_PART } from './snapshot-parts.js';
import { claimRun, type Inspected, inspectRun, type TakenOver } from './take-over.js';

/** What an engine needs to drive a run here: as `ActiveRun` takes it (its meta, token, version, state). */
export type DriveClaim = Pick<ActiveRunOptions, 'meta' | 'token' | 'seq' | 'snapshot' | 'input' | 'create'>;

export interface ResumeProtocolOptions {
  store: Store;
  registry: FlowRegistry;
  engineId: string;
  reading: ReadOptions;
  /** The runs this engine drives, by id. */
  active: ReadonlyMap<string, ActiveRun>;
  /** The distributed side (`execution: 'distributed'`): it resumes and reverts runs no process owns. */
  distributed: DistributedRuns | undefined;
  drive(
    compiled: CompiledFlow,
    run: FlowRun<any>,
    claim: DriveClaim,
    first?: 'RESUME' | 'ROLLBACK',
  ): ActiveRun;
}

/**
 * The resume protocol of an engine: `engine.resume` and `engine.revert` of a stored run. The run is
 * inspected first (loaded, its structure found, every part validated: take-over.ts), and only then
 * claimed with a new fencing token (invariant 2) and rehydrated into an actor this engine drives; a
 * refused resume leaves the stored run untouched (invariant 5). A finished run is read, not claimed. A
 * second resume of a run joins the first.
 */
export function createResumeProtocol(options: ResumeProtocolOptions) {
  const { store, registry, engineId, reading, active, distributed, drive } = options;

  /** Load and check flow, structure and data: a refused resume leaves the stored run untouched. */
  const inspect = (id: string) => inspectRun(store, registry, id, reading);
  /** Inspect, then claim (a new fencing token): from here on this engine drives the run. */
  const takeOver = async (id: string, inspected?: Inspected) =>
    claimRun(store, inspected ?? (await inspect(id)), engineId, reading);

  const rehydrate = (
    { compiled, token, stored, snapshot }: TakenOver,
    run: FlowRun<any>,
    first?: 'RESUME' | 'ROLLBACK',
  ) => {
    const inputs = (snapshot?.context.inputs ?? decodeInputs(stored)) as Record<string, unknown>;
    const runConcurrency = Number(stored.parts.concurrency ?? 0) || 0;
    const flow = compiled.flow;
    const versionChanged =
      stored.meta.version !== flow.version ? { from: stored.meta.version, to: flow.version } : undefined;
    const meta: RunMeta = { ...stored.meta, version: flow.version, owner: engineId };
    // Reported on a later turn: `resume()` hands the run to its caller only after this one, and an event
    // emitted now would reach no listener.
    if (versionChanged) setImmediate(() => run.setStatus(run.status, { versionChanged }));
    drive(
      compiled,
      run,
      {
        meta,
        token,
        seq: stored.seq,
        snapshot,
        input: { runId: stored.meta.id, inputs, concurrency: runConcurrency },
      },
      first,
    );
  };

  /** Resumes in flight here, by run id: a second resume of the same run joins the first. */
  const resuming = new Map<string, Promise<FlowRun<any>>>();

  const resumeStored = async <R>(id: string): Promise<FlowRun<R>> => {
    if (distributed) {
      const run = new FlowRun<R>(id);
      await distributed.resume(id, run);
      return run;
    }
    const inspected = await inspect(id);
    const run = new FlowRun<R>(id);
    const { checked, compiled, stored } = inspected;
    // A finished run keeps its outcome: it is read, not claimed (no new token, no owner change).
    if (checked && isFinished(stored.meta.status)) {
      run.setStatus(stored.meta.status);
      run.finish(settle(compiled, checked.context) as never);
      return run;
    }
    rehydrate(await takeOver(id, inspected), run);
    return run;
  };

  return {
    /** Whether a resume of this run is in flight here. */
    resuming: (id: string): boolean => resuming.has(id),

    resume<R>(id: string): Promise<FlowRun<R>> {
      const existing = active.get(id);
      if (existing) return Promise.resolve(existing.run as FlowRun<R>);
      const pending = resuming.get(id);
      if (pending) return pending as Promise<FlowRun<R>>;
      const started = resumeStored<R>(id).finally(() => resuming.delete(id));
      resuming.set(id, started);
      return started;
    },

    async revert(id: string): Promise<void> {
      const local = active.get(id);
      let run: FlowRun<any>;
      if (distributed) {
        run = new FlowRun(id);
        await distributed.revert(id, run);
      } else if (local) {
        run = local.run;
        local.send('ROLLBACK');
      } else {
        run = new FlowRun(id);
        rehydrate(await takeOver(id), run, 'ROLLBACK');
      }
      // A rolled-back run's result rejects (it did not succeed): only an end other than REVERTED is an
      // error for the caller (RevertFailedError, or what stopped the run).
      await run.result.catch(() => {});
      if (run.status !== 'REVERTED') await run.result;
    },
  };
}

function decodeInputs(stored: StoredRun): unknown {
  return JSON.parse(stored.parts[INPUTS_PART] ?? '{}');
}

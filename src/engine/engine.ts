import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { AnyStateMachine, InspectionEvent, Observer } from 'xstate';
import { type CompiledFlow, compile, machineWithHooks } from '../compile/compile.js';
import { flowStructure } from '../compile/flow-structure.js';
import type { RunInput } from '../compile/run-context.js';
import type { TaskHooks } from '../compile/task-actors.js';
import {
  EngineClosedError,
  FlowDefinitionError,
  InvalidOptionError,
  MissingInputsError,
  RunExistsError,
  RunNotFoundError,
  TaskweaveError,
} from '../errors.js';
import { describe } from '../flow/options.js';
import type { Flow } from '../flow/types.js';
import { encodeValue } from '../model/codec.js';
import { expectNumberOption } from '../model/expect-option.js';
import { DEFAULT_UNAVAILABLE_DEADLINE_MS } from '../redis/options.js';
import { memoryStore } from '../store/memory-store.js';
import { queuesOf } from '../store/redis-queues.js';
import type { RunEvent } from '../store/run-history.js';
import type { RunMeta, Store } from '../store/store.js';
import { ActiveRun } from './active-run.js';
import { DistributedRuns, type DistributedRunsOptions } from './distributed-runs.js';
import { type Explanation, explainRun, shapeOf, shapeOfEdges } from './explain.js';
import { FlowRegistry } from './flow-registry.js';
import { FlowRun } from './flow-run.js';
import { createResumeProtocol, type DriveClaim } from './resume-protocol.js';
import { readHistory, type WatchOptions, watchRun } from './run-history.js';
import { type RunInfo, readRun } from './run-info.js';
import { INPUTS_PART, joinSnapshot } from './snapshot-parts.js';
import { createRunTracing, type TracerLike } from './tracing.js';
import { unservedQueues } from './unserved-queues.js';

export interface EngineOptions {
  /** Where runs are stored. @default memoryStore() */
  store?: Store;
  /** Flows this engine can start by name and resume. */
  flows?: readonly Flow[];
  /** Max tasks running at once per run; 0 for no limit. @default 0 */
  concurrency?: number;
  /** An XState inspection observer (e.g. `@statelyai/inspect`'s `inspector.inspect`), attached to every run actor. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /**
   * OpenTelemetry tracer for `taskweave.run`, `taskweave.execute` and `taskweave.revert` spans.
   * @default the global provider's tracer when `@opentelemetry/api` is installed; else no tracing
   */
  tracer?: TracerLike;
  /** Engine id written as the owner of runs it holds. @default `<hostname>:<pid>:<random>` */
  id?: string;
  /**
   * How long any store operation of this engine (writes of its runs, and the reads of get, resume and
   * revert) may wait for an unavailable store before it fails with StoreUnavailableError. The store
   * retries within it (the engine adds no retry of its own: see `Store`); a store with a shorter
   * deadline of its own gives up sooner.
   * @default 30_000
   */
  unavailableDeadlineMs?: number;
  /**
   * Close the store in `engine.close()`. Pass false for a store shared with other engines (then close
   * it yourself once the last of them is closed).
   * @default true
   */
  closeStore?: boolean;
  /**
   * `'in-process'`: this engine executes its runs' tasks. `'distributed'`: it stores each run and
   * dispatches its ready tasks to queues; workers (`createWorker`) in any process execute them and take
   * the next steps. Needs a `redisStore()`.
   * @default 'in-process'
   */
  execution?: 'in-process' | 'distributed';
}

export interface StartOptions {
  /** Run id; a stored run with this id makes `result` reject with RunExistsError. @default a random UUID */
  id?: string;
  /** Overrides the engine's per-run concurrency. */
  concurrency?: number;
}

export interface Engine {
  /** Start a run and wait for its results. */
  run<R = Record<string, unknown>>(
    flow: Flow | string,
    inputs?: Record<string, unknown>,
    options?: StartOptions,
  ): Promise<R>;
  /** Start a run; returns at once. Bad inputs throw here (MissingInputsError, NotSerializableError). */
  start<R = Record<string, unknown>>(
    flow: Flow | string,
    inputs?: Record<string, unknown>,
    options?: StartOptions,
  ): FlowRun<R>;
  /** Take a stored run over (new fencing token) and continue it. A finished run gives its stored outcome. */
  resume<R = Record<string, unknown>>(id: string): Promise<FlowRun<R>>;
  /** Take a stored run over and revert everything that ran. Rejects with RevertFailedError if a revert throws. */
  revert(id: string): Promise<void>;
  /**
   * A stored run's state, per-task records (with `startedAt`/`finishedAt`), results, failures and its
   * flow's structure (`flow`), also on an engine that does not know the flow.
   */
  get(id: string): Promise<RunInfo | undefined>;
  /**
   * A run's history, oldest first, as stored (from any process): one event per task state change and
   * per run status change. Rejects with `RunNotFoundError` when the store holds no such run.
   *
   * @example
   * for (const e of await engine.history('req-42')) console.log(e.seq, e.task ?? '[run]', e.state);
   */
  history(id: string): Promise<RunEvent[]>;
  /**
   * Watch a run from any process: its past events (after `from`), then new ones as they are stored;
   * ends when the run ends (SUCCESS, REVERTED or FAILURE), when you leave the loop, on `signal`, or
   * when the engine closes. Each watch on Redis reads on a connection of its own, closed when it ends.
   *
   * @example
   * for await (const e of engine.watch('req-42')) console.log(e.task ?? '[run]', e.state);
   */
  watch(id: string, options?: WatchOptions): AsyncIterable<RunEvent>;
  /**
   * What a stored run waits on (running tasks, backoff, dependencies, the concurrency limit, a
   * suspended or reverting run), as data and as sentences. Works without knowing the flow.
   * `RunNotFoundError` when there is no such run.
   */
  explain(id: string): Promise<Explanation>;
  /**
   * Stop one run active here at once, without closing the engine: running tasks' signals abort,
   * nothing more is written, and its `result` rejects with `reason` (default `EngineClosedError`).
   * The run stays stored and resumable. False when no run with that id is active here.
   */
  abort(id: string, reason?: Error): boolean;
  /** Register flows so runs of them can be started by name and resumed. */
  register(...flows: Flow[]): void;
  readonly store: Store;
  readonly id: string;
  /**
   * Stop every active run here (they stay stored, resumable) and close the store (unless
   * `closeStore: false`). Idempotent. Nothing of the engine keeps Node alive afterwards.
   */
  close(): Promise<void>;
}

/**
 * Create an engine: it runs flows, persists every transition to its store and resumes stored runs.
 *
 * @example
 * const engine = createEngine({ store: redisStore({ redis: 'redis://127.0.0.1:6379' }), flows: [bootServer] });
 * const results = await engine.run(bootServer, { network: 'net-1' });
 */
export function createEngine(options: EngineOptions = {}): Engine {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('options', 'an object', options);
  }
  const concurrency = expectNumberOption('concurrency', options.concurrency ?? 0, 0, true);
  const unavailableDeadlineMs = expectNumberOption(
    'unavailableDeadlineMs',
    options.unavailableDeadlineMs ?? DEFAULT_UNAVAILABLE_DEADLINE_MS,
    0,
  );
  if (options.closeStore !== undefined && typeof options.closeStore !== 'boolean') {
    throw new InvalidOptionError('closeStore', 'a boolean', options.closeStore);
  }
  const closeStore = options.closeStore ?? true;
  const store = options.store ?? memoryStore();
  /** Every read this engine makes is bounded by the same deadline as its writes. */
  const reading = { deadlineMs: unavailableDeadlineMs };
  const engineId = options.id ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const machines = new Map<Flow, AnyStateMachine>();
  const active = new Map<string, ActiveRun>();
  let closed = false;
  /** Ends every watch when the engine closes. */
  const closing = new AbortController();
  // Every watch of a run listens for the engine closing: thousands at once are expected, not a leak.
  setMaxListeners(0, closing.signal);
  // Runs of any version this engine knows (the registry is made below; called only later).
  const tracing = createRunTracing(options.tracer);
  const distributed = distributedRuns(
    options,
    store,
    closing.signal,
    (meta) => registry.requireForRun(meta),
    // The run's span opens where the run is followed (a new run's before its create, which stores the
    // span's ids with the run): the workers' spans are its children.
    tracing
      ? {
          following: (run, flow, resumed) => tracing.run(run.id, flow, run.result, () => run.status, resumed),
          traceParent: (runId) => tracing.parentOf(runId),
        }
      : {},
  );
  /** Flow structures this engine has put in the store's catalog, by hash. */
  const catalogued = new Map<string, Promise<void>>();

  /**
   * Put a flow's structure in the catalog once per engine (a command of its own, sent before the run's
   * create on the same connection; runs pay nothing for it).
   */
  const catalogue = (compiled: CompiledFlow) => {
    if (!store.saveFlow || catalogued.has(compiled.hash)) return;
    const saved = store.saveFlow(flowStructure(compiled)).catch(() => {
      // The catalog is for readers: a run goes on without it, and a later run tries again.
      catalogued.delete(compiled.hash);
    });
    catalogued.set(compiled.hash, saved);
  };

  const hooks: TaskHooks = {
    // Local: these hooks run the effects of runs this engine drives (their spans are its tracing's).
    ...(tracing
      ? { trace: (kind, input, run, settle) => tracing.effect(kind, input, run, settle, true) }
      : {}),
    beforeEffect(runId: string): Promise<void> {
      const run = active.get(runId);
      return run ? run.writer.barrier() : Promise.reject(new EngineClosedError(runId));
    },
    progress(runId: string, task: string, fraction: number, details: unknown) {
      active.get(runId)?.run.emitProgress({ task, fraction, ...(details === undefined ? {} : { details }) });
      store.publishProgress?.(runId, {
        task,
        fraction,
        at: Date.now(),
        ...(details === undefined ? {} : { details }),
      });
    },
  };

  const registry = new FlowRegistry();
  const register = (...list: Flow[]) => registry.register(...list);
  register(...(options.flows ?? []));

  const machineFor = (compiled: CompiledFlow) => {
    const machine = machines.get(compiled.flow) ?? machineWithHooks(compiled, hooks);
    machines.set(compiled.flow, machine);
    return machine;
  };

  const flowByName = (name: string): Flow => registry.byName(name);
  const compiledFor = (meta: RunMeta): CompiledFlow | undefined => registry.forRun(meta);

  const assertOpen = () => {
    if (closed)
      throw new TaskweaveError('Expected an open engine, got one that was closed. Create a new engine.');
  };

  const drive = (
    compiled: CompiledFlow,
    run: FlowRun<any>,
    claim: DriveClaim,
    /** What a rehydrated run does first: continue, or (engine.revert) roll back without starting anything. */
    first: 'RESUME' | 'ROLLBACK' = 'RESUME',
  ): ActiveRun => {
    catalogue(compiled);
    const activeRun = new ActiveRun({
      compiled,
      machine: machineFor(compiled),
      store,
      ...claim,
      run,
      inspect: options.inspect,
      unavailableDeadlineMs,
      onExit: () => {
        if (active.get(run.id) === activeRun) active.delete(run.id);
      },
    });
    active.set(run.id, activeRun);
    tracing?.run(run.id, compiled.flow.name, run.result, () => run.status, claim.snapshot !== undefined);
    activeRun.start(claim.snapshot !== undefined ? first : undefined);
    run.attach(activeRun);
    return activeRun;
  };

  const start = <R>(
    flowOrName: Flow | string,
    inputs: Record<string, unknown> = {},
    startOptions: StartOptions = {},
  ): FlowRun<R> => {
    assertOpen();
    const flow = typeof flowOrName === 'string' ? flowByName(flowOrName) : flowOrName;
    if (typeof flowOrName !== 'string') register(flow);
    const compiled = compile(flow);
    if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
      throw new FlowDefinitionError(`Expected run inputs to be an object, got ${describe(inputs)}`);
    }
    const missing = [...compiled.graph.requiredInputs]
      .filter(([name]) => !(name in inputs))
      .flatMap(([input, neededBy]) => neededBy.map((by) => ({ input, neededBy: by })));
    if (missing.length > 0) throw new MissingInputsError(missing, flow.name);
    const encoded: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(inputs)) encoded[name] = encodeValue(value, `inputs.${name}`);
    const runConcurrency = expectNumberOption(
      'concurrency',
      startOptions.concurrency ?? concurrency,
      0,
      true,
    );
    const id = startOptions.id ?? randomUUID();
    const run = new FlowRun<R>(id);
    const now = Date.now();
    const meta: RunMeta = {
      id,
      flow: flow.name,
      version: flow.version,
      hash: compiled.hash,
      status: 'PENDING',
      createdAt: now,
      updatedAt: now,
      owner: engineId,
    };
    const input: RunInput = { runId: id, inputs: encoded, concurrency: runConcurrency, at: now };
    // One engine drives a run at most once: a second start of an id active here is refused before
    // it could displace the first (the store refuses ids other engines hold).
    if (active.has(id) || protocol.resuming(id)) {
      run.finish({ error: new RunExistsError(id) });
      return run;
    }
    if (distributed) {
      catalogue(compiled);
      distributed.start(compiled, run, meta, input);
      return run;
    }
    // The run's first write creates it (inputs and first snapshot together): no task's effect starts
    // before it is acknowledged, and an id already stored fails the run with RunExistsError.
    drive(compiled, run, {
      meta,
      token: 1,
      seq: 0,
      snapshot: undefined,
      input,
      create: { [INPUTS_PART]: JSON.stringify(encoded), concurrency: String(runConcurrency) },
    });
    return run;
  };

  const protocol = createResumeProtocol({ store, registry, engineId, reading, active, distributed, drive });
  const resume = <R>(id: string): Promise<FlowRun<R>> => {
    assertOpen();
    return protocol.resume<R>(id);
  };
  const revert = (id: string): Promise<void> => {
    assertOpen();
    return protocol.revert(id);
  };

  return {
    store,
    id: engineId,
    register,
    start,
    run: (flow, inputs, startOptions) => start(flow, inputs, startOptions).result as never,
    resume,
    revert,
    abort(id, reason) {
      const activeRun = active.get(id);
      if (!activeRun) return false;
      activeRun.abort(reason ?? new EngineClosedError(id));
      return true;
    },
    async get(id) {
      const stored = await store.load(id, reading);
      if (!stored) return undefined;
      const known = compiledFor(stored.meta);
      // Validated as resume validates it: a corrupt run is refused, never shown half-read.
      if (known) joinSnapshot(id, known, stored.parts);
      const structure = known ? flowStructure(known) : await store.loadFlow?.(stored.meta.hash, reading);
      return readRun(stored, known, { flow: structure });
    },
    async history(id) {
      // A run started here a moment ago is read once its create is stored (or refused).
      await (active.get(id)?.writer.firstWrite ?? distributed?.created(id));
      return readHistory(store, id, 0, reading);
    },
    watch(id, watchOptions = {}) {
      assertOpen();
      return watchRun(
        store,
        id,
        watchOptions,
        closing.signal,
        active.get(id)?.writer.firstWrite ?? distributed?.created(id),
        reading,
      );
    },
    async explain(id) {
      const stored = await store.load(id, reading);
      if (!stored) throw new RunNotFoundError(id);
      const known = compiledFor(stored.meta);
      // Without the flow's code, dependencies come from the flow catalog.
      const structure = known ? undefined : await store.loadFlow?.(stored.meta.hash, reading);
      const shape = known ? shapeOf(known) : structure ? shapeOfEdges(structure.edges) : undefined;
      const unserved = known ? await unservedQueues(store, stored, known) : undefined;
      return explainRun(stored, { shape, unserved });
    },
    async close() {
      if (closed) return;
      closed = true;
      closing.abort();
      distributed?.close();
      for (const [id, activeRun] of active) activeRun.abort(new EngineClosedError(id));
      if (closeStore) await store.close();
    },
  };
}

/** The distributed side of an engine (`execution: 'distributed'`), or undefined for in-process runs. */
function distributedRuns(
  options: EngineOptions,
  store: Store,
  closing: AbortSignal,
  compiledFor: (meta: RunMeta) => CompiledFlow,
  traced: Pick<DistributedRunsOptions, 'following' | 'traceParent'>,
): DistributedRuns | undefined {
  const execution = options.execution ?? 'in-process';
  if (execution !== 'in-process' && execution !== 'distributed') {
    throw new FlowDefinitionError(
      `Expected \`execution\` to be 'in-process' or 'distributed', got ${describe(execution)}`,
    );
  }
  if (execution === 'in-process') return undefined;
  const queues = queuesOf(store);
  if (!queues) {
    throw new TaskweaveError(
      `Expected a redisStore() for execution: 'distributed' (its queues are Redis Streams beside the runs), got ${describe(options.store)}.`,
    );
  }
  return new DistributedRuns({ store, queues, compiledFor, closing, ...traced });
}

import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { EventObject } from 'xstate';
import type { CompiledFlow } from '../compile/compile.js';
import { type EffectParams, LazySignal } from '../compile/effect-actor.js';
import { createTaskActors, type ExecuteInput, type RevertInput } from '../compile/task-actors.js';
import { recordOf } from '../compile/task-records.js';
import { type Applied, applyEvent, type LoadedRun, loadRun } from '../engine/distributed-apply.js';
import { currentChild } from '../engine/distributed-step.js';
import { TRACE_PART } from '../engine/snapshot-parts.js';
import { createRunTracing, type RunTracing, type TracerLike } from '../engine/tracing.js';
import { versionQueue } from '../engine/version-queues.js';
import {
  DeliveryExhaustedError,
  FlowVersionMismatchError,
  InvalidOptionError,
  StoreUnavailableError,
  UnknownFlowError,
} from '../errors.js';
import { describe } from '../flow/options.js';
import type { Flow } from '../flow/types.js';
import { expectNumberOption } from '../model/expect-option.js';
import { doneEventOf, errorEventOf, TASK_ACTORS, taskActorId } from '../model/names.js';
import type { RedisClient } from '../store/redis-connection.js';
import {
  type Delivery,
  GROUP,
  queuesOf,
  type RunQueues,
  type TaskMessage,
  type TimerMember,
} from '../store/redis-queues.js';
import type { RunMeta, Store } from '../store/store.js';
import { flowResolver } from './flow-resolver.js';

export interface WorkerOptions {
  /** The store runs are kept in: a `redisStore()` (queues are Redis Streams beside the runs). Left open by `close()`. */
  store: Store;
  /** Flows whose tasks this worker can execute (several versions of one flow may be given). */
  flows: readonly Flow[];
  /** Queues to take tasks from. @default ['default'] */
  queues?: readonly string[];
  /** Most tasks held (executing or reverting) at once. @default 8 */
  concurrency?: number;
  /** A task held this long without its worker extending the claim is delivered to another worker. @default 30_000 */
  visibilityTimeoutMs?: number;
  /**
   * Deliveries of one task message; the one after fails the task with DeliveryExhaustedError. A
   * delivery to a worker that does not know the run's flow, which passes the message on, is not counted. @default 5
   */
  maxDeliveries?: number;
  /** How often due backoff deadlines and abandoned messages are looked for. @default 50 */
  pollMs?: number;
  /** Consumer name in the queues' group. @default `<hostname>:<pid>:<random>` */
  id?: string;
  /**
   * OpenTelemetry tracer for the `taskweave.execute` / `taskweave.revert` spans of the tasks this worker
   * runs. @default the global provider's tracer when `@opentelemetry/api` is installed; else no tracing
   */
  tracer?: TracerLike;
}

/** What a worker reports (`worker.on(...)`): for logs and tests. */
export interface WorkerEvents {
  /** A message was dropped without its outcome: stale (the run moved on), fenced, or poison. */
  dropped: [{ queue: string; run?: string; task?: string; reason: string }];
  /**
   * A message of a flow, or a structure of it, this worker does not know was passed on to the queue
   * only workers knowing it read (`to`, `<queue>/<flow>@<hash>`); it waits there for one.
   */
  passed: [{ queue: string; run: string; task: string; flow: string; hash: string; to: string }];
  /** A store or internal error the worker survived (the message stays pending and comes back). */
  error: [Error];
  /**
   * On a Redis Cluster: steps a process left written but not relayed (it died, or froze past the
   * visibility timeout, between its run write and its relay) were relayed by this worker.
   */
  relayed: [{ steps: number }];
  /** Another process wrote the run first: the outcome is applied again to the run as now stored. */
  conflict: [{ run: string; task?: string }];
}

export interface Worker {
  readonly id: string;
  /** Create the queues' consumer groups and start taking tasks. */
  start(): Promise<void>;
  /**
   * Stop taking tasks and stop every timer; held tasks' signals abort and their messages are released
   * to the other workers at once (their outcomes are not applied). With `drain: true`, held tasks finish
   * and their outcomes are applied first. Idempotent; leaves the store open.
   */
  close(options?: { drain?: boolean }): Promise<void>;
  /**
   * Know more flows. A task of a flow (or flow structure) a worker does not know is left to the workers
   * that know it: it waits for one, however long, in a queue of that flow's version.
   */
  register(...flows: Flow[]): void;
  on<K extends keyof WorkerEvents>(event: K, listener: (...args: WorkerEvents[K]) => void): this;
}

/**
 * A worker of distributed execution: it takes task messages from its queues, executes (or reverts)
 * the task, and applies the outcome to the stored run with one pure transition and one versioned
 * write that also dispatches what became ready and acknowledges the message.
 *
 * @example
 * const worker = createWorker({ store: redisStore({ redis }), flows: [bootServer], queues: ['default', 'gpu'] });
 * await worker.start();
 * // later
 * await worker.close();
 */
/** How long a read of the queues blocks waiting for messages. */
const READ_BLOCK_MS = 250;
/**
 * How long close() waits for a read in flight past its block. With Redis gone ioredis holds the read in
 * its offline queue, possibly forever (a connection disconnected while it waits to reconnect never
 * settles it): close() then drops it rather than hang.
 */
const READ_GRACE_MS = 1_000;

export function createWorker(options: WorkerOptions): Worker {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('options', 'an object', options, describe(options));
  }
  const queues = queuesOf(options.store ?? {});
  if (!queues) {
    throw new InvalidOptionError(
      'store',
      'a redisStore() (distributed execution keeps its queues in Redis)',
      options.store,
      describe(options.store),
    );
  }
  const names = [...new Set(options.queues ?? ['default'])];
  if (names.length === 0 || names.some((q) => typeof q !== 'string' || q.length === 0)) {
    throw new InvalidOptionError('queues', 'a list of queue names', options.queues, describe(options.queues));
  }
  const concurrency = expectNumberOption('concurrency', options.concurrency ?? 8, 1, true);
  const visibilityTimeoutMs = expectNumberOption(
    'visibilityTimeoutMs',
    options.visibilityTimeoutMs ?? 30_000,
    10,
  );
  const maxDeliveries = expectNumberOption('maxDeliveries', options.maxDeliveries ?? 5, 1, true);
  const pollMs = expectNumberOption('pollMs', options.pollMs ?? 50, 1);
  const compiledFor = flowResolver(options.flows ?? []);
  const id = options.id ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  return new DistributedWorker(options.store, queues, names, compiledFor, {
    id,
    concurrency,
    visibilityTimeoutMs,
    maxDeliveries,
    pollMs,
    tracing: createRunTracing(options.tracer),
  });
}

interface Held {
  delivery: Delivery;
  signal: LazySignal;
  done: Promise<void>;
}

type Actors = ReturnType<typeof createTaskActors>;
type Effect = (params: EffectParams<ExecuteInput | RevertInput>) => Promise<unknown>;

class DistributedWorker extends EventEmitter<WorkerEvents> implements Worker {
  readonly id: string;
  private readonly held = new Map<string, Held>();
  private readonly actors = new WeakMap<CompiledFlow, Actors>();
  private reader: RedisClient | undefined;
  private subscriber: RedisClient | undefined;
  private loop: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private closing = false;
  private draining = false;
  private closed: Promise<void> | undefined;
  private slotFreed: (() => void) | undefined;
  private polling = false;
  private sweeping = false;
  /** The queues read: the worker's own, and their version queues for every flow structure it knows. */
  private reading: readonly string[];
  private versionQueues: readonly string[] = [];
  private lastVersionReclaim = 0;
  /** Messages read beyond the free slots (a read of several queues), taken as slots free up. */
  private readonly waiting: Delivery[] = [];
  /** Outcomes being applied, per run: the last in line, and the run as the last apply left it. */
  private readonly turns = new Map<string, { tail: Promise<void>; written: LoadedRun | undefined }>();

  constructor(
    private readonly store: Store,
    private readonly queues: RunQueues,
    private readonly names: readonly string[],
    private readonly compiledFor: ReturnType<typeof flowResolver>,
    private readonly config: {
      id: string;
      concurrency: number;
      visibilityTimeoutMs: number;
      maxDeliveries: number;
      pollMs: number;
      /** Undefined without `@opentelemetry/api`: effects are then called as they are. */
      tracing: RunTracing | undefined;
    },
  ) {
    super();
    this.id = config.id;
    this.reading = names;
    // A worker's errors are reported, never thrown at the process (no listener: they are dropped).
    this.on('error', () => {});
  }

  async start(): Promise<void> {
    if (this.loop || this.closing) return;
    await this.queues.ensureGroups(this.names);
    await this.readVersionQueues();
    // Blocking reads hold a connection: one of the worker's own.
    const reader = this.queues.connection.client.duplicate() as RedisClient;
    reader.on('error', () => {});
    this.reader = reader;
    // A cancel (or a sibling's failure) stops tasks running here: their signals abort, as in-process.
    const subscriber = this.queues.connection.client.duplicate() as RedisClient;
    subscriber.on('error', () => {});
    subscriber.on('message', (_channel: string, text: string) => this.abortHeld(text));
    await subscriber.subscribe(this.queues.abortsChannel);
    this.subscriber = subscriber;
    const { pollMs, visibilityTimeoutMs } = this.config;
    this.timers.push(
      setInterval(() => void this.poll(), pollMs),
      setInterval(() => void this.extend(), Math.max(10, visibilityTimeoutMs / 3)),
      // On a Cluster: steps whose writer died between its run's write and its relay (see RunOutbox).
      setInterval(
        () => void this.relayAbandoned(),
        Math.max(pollMs, Math.min(1_000, visibilityTimeoutMs / 4)),
      ),
    );
    this.loop = this.readLoop(reader);
  }

  register(...flows: Flow[]): void {
    this.compiledFor.register(flows);
    if (this.loop && !this.closing) {
      void this.readVersionQueues().catch((error: Error) => this.emit('error', error));
    }
  }

  /** Read the version queues of every flow structure known (their groups first: a read needs them). */
  private async readVersionQueues(): Promise<void> {
    const versions = this.names.flatMap((queue) =>
      this.compiledFor.known().map(({ flow, hash }) => versionQueue(queue, flow, hash)),
    );
    await this.queues.ensureGroups(versions);
    this.versionQueues = versions;
    this.reading = [...this.names, ...versions];
  }

  close(options: { drain?: boolean } = {}): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      this.draining = options.drain === true;
      for (const timer of this.timers) clearInterval(timer);
      this.slotFreed?.();
      let timer: NodeJS.Timeout | undefined;
      const read = await Promise.race([
        this.loop?.then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), READ_BLOCK_MS + READ_GRACE_MS);
        }),
      ]);
      clearTimeout(timer);
      // A read that did not end is dropped with its connection: nothing it might bring is taken.
      if (read === false) this.reader?.disconnect();
      // Messages read but not begun go back to the other workers either way.
      const waiting = this.waiting.splice(0);
      if (!this.draining) {
        const held = [...this.held.values()];
        for (const { signal } of held) signal.abort();
        await this.release([...held.map((h) => h.delivery), ...waiting]).catch((error: Error) =>
          this.emit('error', error),
        );
        // A task that ignores its signal is not waited for: its outcome would not be applied anyway.
        await Promise.race([
          Promise.all(held.map((h) => h.done)),
          new Promise((resolve) => setTimeout(resolve, 1_000).unref()),
        ]);
      } else {
        await this.release(waiting).catch((error: Error) => this.emit('error', error));
        await Promise.all([...this.held.values()].map((h) => h.done));
      }
      this.reader?.disconnect();
      this.subscriber?.disconnect();
    })();
    return this.closed;
  }

  private get free(): number {
    return this.config.concurrency - this.held.size;
  }

  private async readLoop(reader: RedisClient): Promise<void> {
    let delay = 50;
    while (!this.closing) {
      if (this.free <= 0) {
        await new Promise<void>((resolve) => {
          this.slotFreed = resolve;
        });
        continue;
      }
      if (this.waiting.length > 0) {
        for (const delivery of this.waiting.splice(0, this.free)) this.take(delivery);
        continue;
      }
      try {
        // Short blocks: close() waits for the read in flight rather than cutting a delivery off.
        const deliveries = await this.queues.read(reader, this.reading, this.id, this.free, READ_BLOCK_MS);
        delay = 50;
        // COUNT holds per stream: a read of several queues may bring more than the free slots. The rest
        // wait here, claimed (and extended) by this worker, for the next slot.
        for (const delivery of deliveries) {
          if (this.free > 0) this.take(delivery);
          else this.waiting.push(delivery);
        }
      } catch (error) {
        if (this.closing) return;
        this.emit('error', error as Error);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 1_000);
      }
    }
  }

  /** Due deadlines, then messages whose worker died or froze. */
  private async poll(): Promise<void> {
    if (this.polling || this.closing) return;
    this.polling = true;
    try {
      for (const member of await this.queues.dueTimers(Date.now(), 100)) {
        if (this.closing) return;
        await this.wake(member);
      }
      // Version queues are rarely used: their abandoned messages are looked for less often.
      const now = Date.now();
      const versionsToo =
        now - this.lastVersionReclaim >= Math.max(this.config.pollMs, this.config.visibilityTimeoutMs / 4);
      if (versionsToo) this.lastVersionReclaim = now;
      for (const queue of versionsToo ? [...this.names, ...this.versionQueues] : this.names) {
        if (this.free <= 0 || this.closing) break;
        const reclaimed = await this.queues.reclaim(
          queue,
          this.id,
          this.config.visibilityTimeoutMs,
          this.free,
        );
        for (const delivery of reclaimed) this.take(delivery);
      }
    } catch (error) {
      this.emit('error', error as Error);
    } finally {
      this.polling = false;
    }
  }

  /**
   * Relay the outbox entries registered longer ago than the visibility timeout: as a message whose
   * worker died is delivered again after it, so are the dispatches of a step whose writer died.
   */
  private async relayAbandoned(): Promise<void> {
    if (!this.queues.outbox.active || this.sweeping || this.closing) return;
    this.sweeping = true;
    try {
      const steps = await this.queues.outbox.relayDue(this.config.visibilityTimeoutMs);
      if (steps > 0) this.emit('relayed', { steps });
    } catch (error) {
      this.emit('error', error as Error);
    } finally {
      this.sweeping = false;
    }
  }

  /** Keep the messages held here: a live worker keeps its task however long it runs. */
  private async extend(): Promise<void> {
    const byQueue = new Map<string, string[]>();
    for (const delivery of [...[...this.held.values()].map((h) => h.delivery), ...this.waiting]) {
      byQueue.set(delivery.queue, [...(byQueue.get(delivery.queue) ?? []), delivery.id]);
    }
    for (const [queue, ids] of byQueue) {
      try {
        for (const lost of await this.queues.extend(queue, this.id, ids)) {
          // Another worker took it (this one froze past the visibility timeout): stop the task;
          // its outcome would be fenced out anyway. One not begun is not begun.
          this.held.get(`${queue}/${lost}`)?.signal.abort();
          const at = this.waiting.findIndex((d) => d.queue === queue && d.id === lost);
          if (at >= 0) this.waiting.splice(at, 1);
        }
      } catch (error) {
        this.emit('error', error as Error);
      }
    }
  }

  /** Hand messages back: their idle time becomes the visibility timeout, so any worker reclaims them now. */
  private async release(deliveries: readonly Delivery[]): Promise<void> {
    const byQueue = new Map<string, string[]>();
    for (const d of deliveries) byQueue.set(d.queue, [...(byQueue.get(d.queue) ?? []), d.id]);
    for (const [queue, ids] of byQueue) {
      await this.queues.extend(queue, this.id, ids, this.config.visibilityTimeoutMs);
    }
  }

  private abortHeld(text: string): void {
    let aborted: TaskMessage[];
    try {
      aborted = JSON.parse(text) as TaskMessage[];
    } catch {
      return;
    }
    for (const { delivery, signal } of this.held.values()) {
      const m = delivery.message;
      if (m && aborted.some((a) => a.r === m.r && a.t === m.t && a.k === m.k && a.a === m.a && a.i === m.i)) {
        signal.abort();
      }
    }
  }

  private take(delivery: Delivery): void {
    const key = `${delivery.queue}/${delivery.id}`;
    if (this.held.has(key)) return;
    const held: Held = { delivery, signal: new LazySignal(), done: Promise.resolve() };
    this.held.set(key, held);
    held.done = this.handle(held)
      .catch((error: Error) => {
        this.emit('error', error);
      })
      .finally(() => {
        this.held.delete(key);
        const freed = this.slotFreed;
        this.slotFreed = undefined;
        freed?.();
      });
  }

  private async drop(delivery: Delivery, reason: string, poison = false): Promise<void> {
    const { message } = delivery;
    await this.queues.drop(
      delivery.queue,
      delivery.id,
      poison ? { ...(message ? { run: message.r, task: message.t } : {}), why: reason } : undefined,
    );
    this.emit('dropped', {
      queue: delivery.queue,
      ...(message ? { run: message.r, task: message.t } : {}),
      reason,
    });
  }

  private async handle({ delivery, signal }: Held): Promise<void> {
    const { message } = delivery;
    if (!message) return this.drop(delivery, `not a task message: ${delivery.raw.slice(0, 200)}`, true);
    let run: LoadedRun | undefined;
    let meta: RunMeta | undefined;
    try {
      run = await loadRun(this.store, message.r, (stored) => {
        meta = stored;
        return this.compiledFor(stored);
      });
    } catch (error) {
      // Not now (Redis unavailable): the message stays pending and comes back after the timeout.
      if (error instanceof StoreUnavailableError) throw error;
      // Another worker's flow (a rolling deploy, or a queue shared by several apps): left to it.
      if (meta && (error instanceof UnknownFlowError || error instanceof FlowVersionMismatchError)) {
        return this.pass(delivery, message, meta);
      }
      // Poison (corrupt run): recorded and acknowledged, never blocking the queue.
      return this.drop(delivery, (error as Error).message, true);
    }
    if (!run) return this.drop(delivery, 'no such run', true);
    const input = currentChild(run.snapshot, message);
    // The run moved on (the task was cancelled, or this is a copy of a message already applied).
    if (!input) return this.drop(delivery, 'stale: the run no longer waits for this task');
    let event: EventObject;
    const actorId = taskActorId(message.k, message.t);
    // Deliveries before the message was passed on to its version queue count; the pass itself does not.
    const deliveries = delivery.deliveries + priorDeliveries(delivery);
    if (deliveries > this.config.maxDeliveries) {
      const error = new DeliveryExhaustedError(message.r, message.t, deliveries);
      event = { type: errorEventOf(actorId), error: { error, at: Date.now() } } as EventObject;
    } else {
      const effect = (this.actorsOf(run.compiled)[message.k] as unknown as { config: Effect }).config;
      try {
        // The run span's ids stored with the run: this task's span is its child.
        const traceParent = run.stored.parts[TRACE_PART];
        const value = await effect({ input: traceParent ? { ...input, traceParent } : input, signal });
        event = { type: doneEventOf(actorId), output: { value, at: Date.now() } } as EventObject;
      } catch (error) {
        event = { type: errorEventOf(actorId), error: { error, at: Date.now() } } as EventObject;
      }
    }
    // Closed meanwhile (not draining): the task was aborted by the close, and its message released.
    if (this.closing && !this.draining) return;
    const loaded = run;
    const applied: Applied = await this.inTurn(message.r, (written) =>
      applyEvent({
        queues: this.queues,
        store: this.store,
        runId: message.r,
        compiledFor: this.compiledFor,
        decide: (current) => (currentChild(current.snapshot, message) ? event : undefined),
        at: () => Date.now(),
        ack: { queue: delivery.queue, id: delivery.id, consumer: this.id },
        cached: written && written.stored.seq > loaded.stored.seq ? written : loaded,
        onConflict: () => this.emit('conflict', { run: message.r, task: message.t }),
      }),
    );
    switch (applied.kind) {
      case 'applied':
        return;
      case 'fenced':
        this.emit('dropped', {
          queue: delivery.queue,
          run: message.r,
          task: message.t,
          reason: 'fenced: another worker took the task',
        });
        return;
      case 'gone':
        return this.drop(delivery, applied.why);
      case 'unchanged':
        return this.drop(delivery, 'stale: the run no longer waits for this outcome');
    }
  }

  /**
   * Move a message of a flow this worker does not know to the queue of its flow's version, read only by
   * workers that know it, in one transaction (a copy there, the original acknowledged and deleted).
   * The deliveries it had before this one go with it, so that `maxDeliveries` counts them.
   */
  private async pass(delivery: Delivery, message: TaskMessage, meta: RunMeta): Promise<void> {
    const to = versionQueue(delivery.queue, meta.flow, meta.hash);
    const from = this.queues.queueKey(delivery.queue);
    const prior = delivery.deliveries - 1 + priorDeliveries(delivery);
    const payload = JSON.stringify(prior > 0 ? { ...message, p: prior } : message);
    const replies = await this.queues.connection.call('pass message on', message.r, (client) =>
      client
        .multi()
        .xadd(this.queues.queueKey(to), '*', 'm', payload)
        .xack(from, GROUP, delivery.id)
        .xdel(from, delivery.id)
        .exec(),
    );
    const failed = replies?.find(([error]) => error)?.[0];
    if (failed) throw failed;
    this.emit('passed', {
      queue: delivery.queue,
      run: message.r,
      task: message.t,
      flow: meta.flow,
      hash: meta.hash,
      to,
    });
  }

  /**
   * Apply outcomes to one run one at a time in this process, each on the run as the one before wrote
   * it. Tasks of one run that finish together here (a fan's branches) would otherwise all write the
   * version they loaded, and all but one be refused and applied again on a fresh read, over and over.
   */
  private inTurn(
    runId: string,
    apply: (written: LoadedRun | undefined) => Promise<Applied>,
  ): Promise<Applied> {
    const turn = this.turns.get(runId) ?? { tail: Promise.resolve(), written: undefined };
    this.turns.set(runId, turn);
    const result = turn.tail.then(() => apply(turn.written));
    const tail = result.then(
      (applied) => {
        if (applied.kind === 'applied' || (applied.kind === 'unchanged' && applied.run)) {
          turn.written = applied.run;
        }
      },
      () => {
        // A failed apply (Redis away) leaves no run known to be current.
        turn.written = undefined;
      },
    );
    turn.tail = tail;
    // The last in line clears the run's turn, so that runs done here are not remembered.
    void tail.then(() => {
      if (turn.tail === tail) this.turns.delete(runId);
    });
    return result;
  }

  /** A backoff deadline is due: the task's next attempt starts (dispatched by the write). */
  private async wake(member: string): Promise<void> {
    let timer: TimerMember;
    try {
      timer = JSON.parse(member) as TimerMember;
    } catch {
      return this.queues.removeTimer(member);
    }
    const sleepId = taskActorId(TASK_ACTORS.RETRYING.prefix, timer.t);
    const type = doneEventOf(sleepId);
    const applied = await applyEvent({
      queues: this.queues,
      store: this.store,
      runId: timer.r,
      compiledFor: this.compiledFor,
      decide: ({ compiled, snapshot }) => {
        const rec = recordOf(compiled.graph, snapshot.context, timer.t);
        const sleeping = (snapshot.children as Record<string, unknown>)[sleepId];
        return rec.s === 'RETRYING' && rec.a === timer.a && sleeping
          ? ({ type, output: { value: undefined, at: Date.now() } } as EventObject)
          : undefined;
      },
      at: () => Date.now(),
      removeTimers: [member],
      onConflict: () => this.emit('conflict', { run: timer.r, task: timer.t }),
    }).catch((error: Error) => {
      // A flow this worker does not know: another worker may; leave the deadline to it.
      if (error instanceof StoreUnavailableError) throw error;
      return undefined;
    });
    if (applied && applied.kind !== 'applied') await this.queues.removeTimer(member);
  }

  private actorsOf(compiled: CompiledFlow): Actors {
    let actors = this.actors.get(compiled);
    if (!actors) {
      const { tracing } = this.config;
      actors = createTaskActors(compiled.graph, {
        // The run's span is in the process that started it: its ids come with the input (traceParent).
        ...(tracing ? { trace: (kind, input, run, settle) => tracing.effect(kind, input, run, settle) } : {}),
        // The write that dispatched the task stored it RUNNING (REVERTING) first: it is durable.
        beforeEffect: () => Promise.resolve(),
        // Published for whoever follows the run (its starting engine, `taskweave runs watch`).
        progress: (runId, task, fraction, details) =>
          this.store.publishProgress?.(runId, {
            task,
            fraction,
            at: Date.now(),
            ...(details === undefined ? {} : { details }),
          }),
      });
      this.actors.set(compiled, actors);
    }
    return actors;
  }
}

/** Deliveries a message had before it was passed on to a version queue (`p` in its payload). */
function priorDeliveries(delivery: Delivery): number {
  const prior = (delivery.message as { p?: unknown } | undefined)?.p;
  return typeof prior === 'number' && Number.isInteger(prior) && prior > 0 ? prior : 0;
}

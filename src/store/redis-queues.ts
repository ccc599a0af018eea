import { queueKeys } from '../redis/keys.js';
import { type LuaScript, runScript } from '../redis/run-script.js';
import { dispatchRun, extendClaims } from './lua/dispatchRun.lua.js';
import { OUTBOX_SCRIPTS } from './lua/outbox.lua.js';
import type { RedisClient, RedisConnection } from './redis-connection.js';
import { RunOutbox } from './redis-outbox.js';
import { eventArgs, metaArgs, pairArgs, RUN_KIND, runKeys } from './redis-run-fields.js';
import type { StatusIndex } from './redis-status-index.js';
import type { NewRunEvent } from './run-history.js';
import type { RunMeta } from './store.js';

/**
 * The Redis side of distributed execution: queue streams, backoff deadlines and the one write per
 * step (dispatchRun). Reached through a Redis store (see `queuesOf`), so it shares its connection.
 *
 * Keys: `{<prefix>}:q:<queue>` (a stream per queue, consumer group `workers`), `{<prefix>}:timers`
 * (deadlines), `{<prefix>}:dead` (poison messages with the reason they were dropped), and on a Cluster
 * `{<prefix>}:outbox` with the entries `{<prefix>:<runId>}:outbox:<id>` (see redis-outbox.ts). All of a
 * prefix's queues share one slot, so a worker reads them with one blocking XREADGROUP on one node.
 */

export const GROUP = 'workers';

/** What a queue message names: a run's task to execute or revert, at one attempt and key. */
export interface TaskMessage {
  /** Run id. */
  r: string;
  /** Task name. */
  t: string;
  k: 'execute' | 'revert';
  /** Attempt. */
  a: number;
  /** Idempotency key. */
  i: string;
}

/** A backoff deadline: the run's task sleeps until its score. */
export interface TimerMember {
  r: string;
  t: string;
  a: number;
}

export interface QueueWrite {
  mode: 'create' | 'save';
  runId: string;
  token: number;
  seq: number;
  meta: RunMeta;
  set: Record<string, string>;
  events: readonly NewRunEvent[];
  /** The message whose outcome this write applies, held by `consumer`. */
  ack?: { queue: string; id: string; consumer: string };
  dispatch: readonly { queue: string; message: TaskMessage }[];
  addTimers: readonly { until: number; member: string }[];
  removeTimers: readonly string[];
}

export type QueueWriteReply =
  | { ok: true; previous?: { status: string; updatedAt: number } }
  | { ok: false; reason: 'EXISTS' | 'FENCED' | 'LEASE' | 'VERSION' | 'CORRUPT'; detail?: string };

/** A message as read from a queue, with how many times it has been delivered. */
export interface Delivery {
  queue: string;
  id: string;
  /** undefined when the payload is not a task message (poison). */
  message: TaskMessage | undefined;
  raw: string;
  deliveries: number;
}

export class RunQueues {
  /** The Cluster's way of taking a step (and relaying what dead processes left). */
  readonly outbox: RunOutbox;
  /** The queues' scripts by name (run by src/redis/run-script.ts on the store's client). */
  private readonly scripts = new Map<string, LuaScript>();

  constructor(
    readonly connection: RedisConnection,
    readonly prefix: string,
    private readonly historyLimit: string,
    private readonly index: StatusIndex | undefined,
  ) {
    // A Cluster client keeps a run and its queues on different slots; a plain client writes both at once.
    this.outbox = new RunOutbox(this, connection.client.isCluster !== false);
    for (const script of [dispatchRun, extendClaims, ...OUTBOX_SCRIPTS])
      this.scripts.set(script.name, script);
  }

  queueKey(queue: string): string {
    return queueKeys(this.prefix).queue(queue);
  }

  get timersKey(): string {
    return queueKeys(this.prefix).timers;
  }

  /** Channel telling workers which busy tasks a write stopped (their signals abort). */
  get abortsChannel(): string {
    return queueKeys(this.prefix).aborts;
  }

  /** Best-effort: a worker that misses it finishes the task, and its outcome is dropped as stale. */
  async publishAborts(aborted: readonly TaskMessage[]): Promise<void> {
    if (aborted.length === 0) return;
    await this.connection
      .call('publish aborts', undefined, (client) =>
        client.publish(this.abortsChannel, JSON.stringify(aborted)),
      )
      .catch(() => {});
  }

  get deadKey(): string {
    return queueKeys(this.prefix).dead;
  }

  /** Run one of the queues' scripts (defined on the store's client). */
  run(name: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return runScript(this.connection.client, this.scripts.get(name)!, keys, args);
  }

  /**
   * One step of a run: state, history, dispatches, deadlines and acknowledgement. On a single Redis
   * one script does it all (dispatchRun); on a Redis Cluster, where the queues are on another slot
   * than the run, the run's write stores them in its outbox and they are relayed after (RunOutbox).
   */
  async write(write: QueueWrite): Promise<QueueWriteReply> {
    let reply: unknown[];
    if (this.outbox.active) {
      reply = await this.outbox.write(write);
    } else {
      try {
        reply = await this.writeAtOnce(write);
      } catch (error) {
        // Refused before the script ran (nothing written): a cluster-enabled server behind a plain client.
        if (!(error instanceof Error && error.message.startsWith('CROSSSLOT'))) throw error;
        this.outbox.active = true;
        reply = await this.outbox.write(write);
      }
    }
    const kind = String(reply[0]);
    if (kind === 'OK') {
      const previous =
        typeof reply[1] === 'string' ? { status: reply[1], updatedAt: Number(reply[2]) } : undefined;
      // The status index is a hint, kept as in a Cluster: updated after the write (see StatusIndex).
      if (this.index && previous?.status !== write.meta.status) {
        void this.index.update(write.meta, previous);
      }
      return previous ? { ok: true, previous } : { ok: true };
    }
    return {
      ok: false,
      reason: kind as 'EXISTS',
      ...(reply[1] == null ? {} : { detail: String(reply[1]) }),
    };
  }

  private writeAtOnce(write: QueueWrite): Promise<unknown[]> {
    const keys = runKeys(this.prefix, write.runId);
    // KEYS[4] is the deadlines' set, the queues follow.
    const block = this.dispatchBlock(write, 5);
    return this.connection.call('write distributed run', write.runId, () =>
      this.run(
        'dispatchRun',
        [keys.meta, keys.parts, keys.events, this.timersKey, ...block.keys],
        [...this.runArgs(write), ...block.args],
      ),
    ) as Promise<unknown[]>;
  }

  /** The run's write, as dispatchRun and writeRunOutbox take it (everything up to its history). */
  runArgs(write: QueueWrite): string[] {
    const set = pairArgs(write.runId, write.set);
    return [
      RUN_KIND,
      write.mode,
      String(write.token),
      String(write.seq),
      ...metaArgs(write.meta),
      String(set.length / 2),
      '0',
      ...set,
      ...eventArgs(this.historyLimit, write.events),
    ];
  }

  /**
   * What a step sends to the queues' slot (see dispatchBlockLua): the queue keys it names, numbered
   * from KEYS[firstKey], and its arguments.
   */
  dispatchBlock(write: QueueWrite, firstKey: number): { keys: string[]; args: string[] } {
    const keys: string[] = [];
    const keyIndex = (queue: string) => {
      const key = this.queueKey(queue);
      let i = keys.indexOf(key);
      if (i < 0) i = keys.push(key) - 1;
      return String(firstKey + i);
    };
    const args = [
      ...(write.ack ? [keyIndex(write.ack.queue), write.ack.id, write.ack.consumer] : ['0', '', '']),
      String(write.dispatch.length),
      ...write.dispatch.flatMap(({ queue, message }) => [keyIndex(queue), JSON.stringify(message)]),
      String(write.addTimers.length),
      ...write.addTimers.flatMap(({ until, member }) => [String(until), member]),
      String(write.removeTimers.length),
      ...write.removeTimers,
    ];
    return { keys, args };
  }

  /** Create the consumer group of each queue (from the start of its stream), if absent. */
  async ensureGroups(queues: readonly string[]): Promise<void> {
    for (const queue of queues) {
      await this.connection.call('create queue group', undefined, async (client) => {
        try {
          await client.xgroup('CREATE', this.queueKey(queue), GROUP, '0', 'MKSTREAM');
        } catch (error) {
          if (!String((error as Error).message).startsWith('BUSYGROUP')) throw error;
        }
      });
    }
  }

  /** New messages for `consumer`, blocking up to `blockMs` on `client` (a connection of its own). */
  async read(
    client: RedisClient,
    queues: readonly string[],
    consumer: string,
    count: number,
    blockMs: number,
  ): Promise<Delivery[]> {
    const reply = (await client.xreadgroup(
      'GROUP',
      GROUP,
      consumer,
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      ...queues.map((q) => this.queueKey(q)),
      ...queues.map(() => '>'),
    )) as [string, [string, string[]][]][] | null;
    const out: Delivery[] = [];
    for (const [key, entries] of reply ?? []) {
      const queue = queues.find((q) => this.queueKey(q) === key)!;
      for (const [id, fields] of entries) out.push(toDelivery(queue, id, fields, 1));
    }
    return out;
  }

  /**
   * Messages idle longer than `idleMs` (their worker died or froze), claimed for `consumer`, with
   * their delivery counts (this claim included).
   */
  async reclaim(queue: string, consumer: string, idleMs: number, count: number): Promise<Delivery[]> {
    const key = this.queueKey(queue);
    const reply = (await this.connection.call('reclaim messages', undefined, (client) =>
      client.xautoclaim(key, GROUP, consumer, idleMs, '0-0', 'COUNT', count),
    )) as [string, ([string, string[]] | null)[], string[]?];
    const entries = (reply[1] ?? []).filter((e): e is [string, string[]] => e !== null);
    if (entries.length === 0) return [];
    const pending = (await this.connection.call('count deliveries', undefined, (client) =>
      client.xpending(key, GROUP, entries[0]![0], entries.at(-1)![0], entries.length * 4, consumer),
    )) as [string, string, number, number][];
    const counts = new Map(pending.map(([id, , , n]) => [id, Number(n)]));
    return entries.map(([id, fields]) => toDelivery(queue, id, fields, counts.get(id) ?? 1));
  }

  /**
   * Set the idle time of messages `consumer` holds (0: keep them; the visibility timeout: release them
   * to the next reclaim); resolves the ids it no longer holds.
   */
  async extend(queue: string, consumer: string, ids: readonly string[], idleMs = 0): Promise<string[]> {
    if (ids.length === 0) return [];
    return (await this.connection.call('extend claims', undefined, () =>
      this.run('extendClaims', [this.queueKey(queue)], [consumer, String(idleMs), ...ids]),
    )) as string[];
  }

  /**
   * The queues among `queues` that no worker has read within `withinMs` (a worker reads every few
   * hundred ms while it runs; the consumer of a dead one stays in the group, idle).
   */
  async unserved(queues: readonly string[], withinMs = 10_000): Promise<Set<string>> {
    const out = new Set<string>();
    for (const queue of queues) {
      const consumers = (await this.connection
        .call('list queue consumers', undefined, (client) =>
          client.xinfo('CONSUMERS', this.queueKey(queue), GROUP),
        )
        .catch(() => [])) as unknown[][];
      const live = consumers.some((fields) => {
        const at = fields.indexOf('idle');
        return at >= 0 && Number(fields[at + 1]) < withinMs;
      });
      if (!live) out.add(queue);
    }
    return out;
  }

  /** Acknowledge and delete a message without writing its run (stale, fenced, or poison). */
  async drop(
    queue: string,
    id: string,
    reason?: { run?: string; task?: string; why: string },
  ): Promise<void> {
    const key = this.queueKey(queue);
    await this.connection.call('drop message', undefined, (client) =>
      client.multi().xack(key, GROUP, id).xdel(key, id).exec(),
    );
    if (reason) {
      await this.connection.call('record dead letter', undefined, (client) =>
        client.xadd(
          this.deadKey,
          'MAXLEN',
          '~',
          '10000',
          '*',
          'queue',
          queue,
          'id',
          id,
          'run',
          reason.run ?? '',
          'task',
          reason.task ?? '',
          'reason',
          reason.why,
        ),
      );
    }
  }

  /** Deadlines due by `now` (at most `count`). */
  async dueTimers(now: number, count: number): Promise<string[]> {
    return this.connection.call('read deadlines', undefined, (client) =>
      client.zrangebyscore(this.timersKey, '-inf', now, 'LIMIT', 0, count),
    );
  }

  async removeTimer(member: string): Promise<void> {
    await this.connection.call('remove deadline', undefined, (client) => client.zrem(this.timersKey, member));
  }
}

function toDelivery(queue: string, id: string, fields: string[], deliveries: number): Delivery {
  const at = Array.isArray(fields) ? fields.indexOf('m') : -1;
  const raw = at >= 0 ? String(fields[at + 1]) : '';
  return { queue, id, raw, message: parseMessage(raw), deliveries };
}

function parseMessage(raw: string): TaskMessage | undefined {
  try {
    const m = JSON.parse(raw) as Partial<TaskMessage>;
    if (
      typeof m?.r === 'string' &&
      typeof m.t === 'string' &&
      (m.k === 'execute' || m.k === 'revert') &&
      typeof m.a === 'number' &&
      typeof m.i === 'string'
    ) {
      return m as TaskMessage;
    }
  } catch {}
  return undefined;
}

/** A Redis store's queues, for the distributed engine and workers (absent on other stores). */
export const QUEUES = Symbol.for('taskweave.queues');

export function queuesOf(store: object): RunQueues | undefined {
  return (store as { [QUEUES]?: RunQueues })[QUEUES];
}

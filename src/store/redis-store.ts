import { setMaxListeners } from 'node:events';
import type { Cluster, Redis } from 'ioredis';
import {
  InvalidOptionError,
  LeaseLostError,
  RunLostError,
  SnapshotCorruptError,
  VersionConflictError,
} from '../errors.js';
import { type FlowStructure, parseFlowStructure } from '../model/flow-structure.js';
import { type ProgressReport, progressChannel, progressText } from './progress.js';
import { checkId, openRedis, validateRedisOptions } from './redis-connection.js';
import { HistoryReader } from './redis-history-reader.js';
import { ProgressListeners } from './redis-progress.js';
import { QUEUES, RunQueues } from './redis-queues.js';
import {
  decodeRun,
  eventArgs,
  flowKey,
  historyEvents,
  indexKey,
  metaArgs,
  pairArgs,
  RUN_KIND,
  runKeys,
} from './redis-run-fields.js';
import { StatusHints } from './redis-status-hints.js';
import { StatusIndex } from './redis-status-index.js';
import { checkHistoryLimit, type HistoryOptions, type WatchHistoryOptions } from './run-history.js';
import {
  type CreateOptions,
  FINISHED_STATUSES,
  type ListRunsOptions,
  type PurgeOptions,
  type ReadOptions,
  RUN_STATUSES,
  type RunMeta,
  type RunStatus,
  type RunWrite,
  type Store,
  type StoredRun,
  type WriteOptions,
} from './store.js';

export interface RedisStoreOptions {
  /**
   * Where runs are stored: a `redis://` or `rediss://` URL, for which the store opens its own client
   * and closes it in `close()`, or an ioredis `Redis` or `Cluster` client, which is left open.
   * Passwords, ACL users and TLS go in the URL (`rediss://user:secret@host:6380/0`) or in the client
   * you build (`new Cluster(nodes, { redisOptions: { tls: {} } })`).
   */
  redis: string | Redis | Cluster;
  /**
   * Key prefix; a run's keys are `{<prefix>:<runId>}:meta` and `…:parts`, indexes `<prefix>:idx:<STATUS>`.
   * @default 'tw'
   */
  prefix?: string;
  /**
   * How long a command may wait for an unavailable Redis (reconnecting, loading, cluster down) before
   * it rejects with `StoreUnavailableError`.
   * @default 30_000
   */
  unavailableDeadlineMs?: number;
  /**
   * Events kept in each run's history (`{<prefix>:<runId>}:events`, a stream appended by the run's
   * writes, one entry per write); beyond it the oldest go, a write's events together (`XADD MINID`,
   * by seq), so a history may hold the rest of its oldest write's events more. An event is ~100 bytes,
   * so the default caps a run's history at ~1 MB.
   * @default 10_000
   */
  historyLimit?: number;
}

/**
 * A `Store` in Redis or Redis Cluster. Each run is a meta hash and a parts hash under one hash tag;
 * every change to a run is one Lua script that checks the fencing token, the version and that the keys
 * hold taskweave's data, and writes only the parts that changed (on a single Redis, it also moves the
 * run's status index entry when the status changes).
 *
 * Errors: a stale token → `LeaseLostError`; a version that is not the next → `VersionConflictError`;
 * keys holding anything else → `SnapshotCorruptError` for that run only; Redis unreachable for
 * `unavailableDeadlineMs` → `StoreUnavailableError` (retrying the same write afterwards is safe: an
 * exact replay of the last applied write resolves without writing again).
 *
 * @example
 * const store = redisStore({ redis: 'redis://127.0.0.1:6379', prefix: 'prod' });
 * const engine = createEngine({ store, flows: [bootServer] });
 * // later
 * await store.close();
 */
export function redisStore(options: RedisStoreOptions): Store {
  const { redis, prefix, unavailableDeadlineMs } = validateRedisOptions(options);
  const historyLimit = String(checkHistoryLimit(options.historyLimit));
  const connection = openRedis(redis, unavailableDeadlineMs);
  const index = new StatusIndex(connection, prefix);
  // On a single Redis, createRun, saveRun and deleteRun keep the status indexes in the same atomic
  // step, so a write costs one command and one round trip. In a Cluster the indexes are on other slots
  // than the run: they are updated after its script, best-effort. A client that does not say it is a
  // single Redis gets the separate updates, which work on both; so does a plain client whose server
  // turns out to be cluster-enabled (one shard, a proxy): its first CROSSSLOT reply switches the mode.
  let indexedByScripts = connection.client.isCluster === false;
  // All seven, in RUN_STATUSES order (the scripts find a status's key by its position): what a write
  // sends when the status its run leaves is known only inside the script.
  const statusIndexKeys = RUN_STATUSES.map((status) => indexKey(prefix, status));
  const indexKeyOf = new Map(RUN_STATUSES.map((status) => [status, indexKey(prefix, status)]));
  // What a write sends otherwise: each key a script takes costs Redis more than the work it does with
  // it, and most writes keep their run's status (statusIndexes in check-run.lua.ts).
  const lastStatus = new StatusHints();
  const indexKeysFor = (runId: string, status: RunStatus): readonly string[] => {
    const from = lastStatus.get(runId);
    if (from === undefined) return statusIndexKeys;
    const to = indexKeyOf.get(status)!;
    return from === status ? [to] : [to, indexKeyOf.get(from)!];
  };
  const closing = new AbortController();
  // Every live reader and every call listens for the store closing (a Cluster has a reader per watch).
  setMaxListeners(0, closing.signal);
  /** Every watch's history reads, on one connection (single Redis; see redis-history-reader.ts). */
  let reader: HistoryReader | undefined;
  /** Every progress listener's subscriptions, on one connection (redis-progress.ts). */
  let progress: ProgressListeners | undefined;
  // Distributed execution's queues share the store's connection (made on first use).
  let queues: RunQueues | undefined;

  const runScript = async (
    what: string,
    runId: string,
    name: Parameters<typeof connection.script>[0],
    args: string[],
    /** The status index keys it takes (createRun, saveRun, deleteRun), dropped in a Cluster. */
    indexes: readonly string[] = [],
    options: ReadOptions & { write?: boolean } = {},
  ): Promise<unknown[]> => {
    const keys = runKeys(prefix, runId);
    const { signal, deadlineMs, write = true } = options;
    const callOptions = {
      write,
      ...(deadlineMs === undefined ? {} : { deadlineMs }),
      advice: adviceFor(name, runId),
    };
    const send = (indexKeys: readonly string[]) =>
      connection.call(
        what,
        runId,
        () => connection.script(name, [keys.meta, keys.parts, keys.events, ...indexKeys], args),
        signal,
        callOptions,
      ) as Promise<unknown[]>;
    if (indexes.length === 0 || !indexedByScripts) return send([]);
    try {
      return await send(indexes);
    } catch (error) {
      // Refused before the script ran (nothing written): from now on, the separate updates.
      if (!(error instanceof Error && error.message.startsWith('CROSSSLOT'))) throw error;
      indexedByScripts = false;
      return send([]);
    }
  };

  const store: Store & { readonly [QUEUES]: RunQueues } = {
    get [QUEUES]() {
      queues ??= new RunQueues(connection, prefix, historyLimit, index);
      return queues;
    },

    async create(meta: RunMeta, parts: Record<string, string>, options: CreateOptions = {}) {
      checkId('runId', meta.id);
      const pairs = pairArgs(meta.id, parts);
      const args = [
        RUN_KIND,
        ...metaArgs(meta),
        meta.id,
        String(pairs.length / 2),
        ...pairs,
        ...eventArgs(historyLimit, options.events),
      ];
      const reply = await runScript(
        'create run',
        meta.id,
        'createRun',
        args,
        [indexKeyOf.get(meta.status)!],
        options,
      );
      if (reply[0] !== 'OK') return false;
      lastStatus.wrote(meta.id, meta.status);
      // The run's first write follows at once; its index entry need not hold it up (the index is a hint).
      if (!indexedByScripts) void index.update(meta);
      return true;
    },

    async claim(runId: string, owner: string, options: ReadOptions = {}) {
      checkId('runId', runId);
      const reply = await runScript('claim run', runId, 'claimRun', [RUN_KIND, owner], [], options);
      if (reply[0] === 'NONE') return undefined;
      if (reply[0] === 'CORRUPT') throw new SnapshotCorruptError(runId, String(reply[1]));
      const run = decodeRun(runId, reply[2], reply[3]);
      // The claimer writes it next: from this status, unless another writes first (the script checks).
      lastStatus.wrote(runId, run.meta.status);
      return { token: run.token, run };
    },

    async save(write: RunWrite, options: WriteOptions = {}) {
      checkId('runId', write.runId);
      const set = pairArgs(write.runId, write.set);
      const del = [...(write.del ?? [])];
      const args = [
        RUN_KIND,
        String(write.token),
        String(write.seq),
        ...metaArgs(write.meta),
        write.runId,
        String(set.length / 2),
        String(del.length),
        ...set,
        ...del,
        ...eventArgs(historyLimit, write.events),
      ];
      const meta = { ...write.meta, id: write.runId };
      let reply = await runScript(
        'save run',
        write.runId,
        'saveRun',
        args,
        indexKeysFor(write.runId, meta.status),
        options,
      );
      // The run left another status than this store last saw: nothing was written; again with all seven.
      if (reply[0] === 'INDEXES')
        reply = await runScript('save run', write.runId, 'saveRun', args, statusIndexKeys, options);
      if (reply[0] === 'OK' || reply[0] === 'REPLAY') lastStatus.wrote(write.runId, meta.status);
      else lastStatus.forget(write.runId);
      switch (reply[0]) {
        case 'OK':
          // The script moved the index entry along with the status.
          if (indexedByScripts) return;
          // Most writes leave the status as it was: the index entry (scored by the time the run entered
          // its status) is already right, and the save costs one round trip.
          if (String(reply[1]) === meta.status) return;
          // A run entering RUNNING need not wait for its index entry (the index is a hint, see
          // redis-status-index.ts); a run that ends, suspends or reverts is listed once its write resolves.
          if (meta.status === 'RUNNING') {
            void index.update(meta, { status: String(reply[1]), updatedAt: Number(reply[2]) });
            return;
          }
          return index.update(meta, { status: String(reply[1]), updatedAt: Number(reply[2]) });
        case 'REPLAY':
          // The write replayed moved the entry when it was applied: there is nothing left to do.
          if (indexedByScripts) return;
          return index.update(meta);
        case 'LEASE':
          // No token at all: there is no run any more (Redis lost it, or it was deleted), not a takeover.
          if (reply[1] == null) throw new RunLostError(write.runId);
          throw new LeaseLostError(write.runId, write.token, reply[1] == null ? undefined : Number(reply[1]));
        case 'VERSION':
          throw new VersionConflictError(write.runId, Number(reply[1]) + 1, write.seq);
        default:
          throw new SnapshotCorruptError(write.runId, String(reply[1]));
      }
    },

    async load(runId: string, options: ReadOptions = {}): Promise<StoredRun | undefined> {
      checkId('runId', runId);
      const reply = await runScript('load run', runId, 'loadRun', [RUN_KIND], [], {
        ...options,
        write: false,
      });
      if (reply[0] === 'NONE') return undefined;
      if (reply[0] === 'CORRUPT') throw new SnapshotCorruptError(runId, String(reply[1]));
      return decodeRun(runId, reply[1], reply[2]);
    },

    async list(options: ListRunsOptions = {}) {
      const statuses = options.status === undefined ? RUN_STATUSES : [options.status].flat();
      for (const status of statuses) checkStatus(status);
      const limit = options.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1) {
        throw new InvalidOptionError('limit', 'an integer from 1 and up', limit);
      }
      return index.list([...new Set(statuses)], options.flow, limit);
    },

    async delete(runId: string) {
      checkId('runId', runId);
      lastStatus.forget(runId);
      const reply = await runScript(
        'delete run',
        runId,
        'deleteRun',
        [RUN_KIND, '', '', runId],
        statusIndexKeys,
      );
      if (reply[0] === 'CORRUPT') throw new SnapshotCorruptError(runId, String(reply[1]));
      // On a single Redis the script removed the entries with the run (and with no run, there are
      // none to remove: forgetting anyway could drop the entry of a run created meanwhile).
      if (!indexedByScripts) await index.forget(runId);
      return reply[0] === 'OK';
    },

    async purge(options: PurgeOptions) {
      const olderThanMs = options?.olderThanMs;
      if (typeof olderThanMs !== 'number' || !(olderThanMs >= 0)) {
        throw new InvalidOptionError('olderThanMs', 'a number from 0 and up', olderThanMs);
      }
      const statuses = options.status ?? FINISHED_STATUSES;
      for (const status of statuses) checkStatus(status);
      const before = Date.now() - olderThanMs;
      const page = 200;
      let deleted = 0;
      for (const status of new Set(statuses)) {
        // `kept` counts entries left in place (corrupt runs, stale scores), so the next page skips them.
        let kept = 0;
        for (;;) {
          const ids = await index.older(status, before, kept, page);
          for (const runId of ids) {
            const reply = await runScript(
              'purge run',
              runId,
              'deleteRun',
              [RUN_KIND, status, String(before), runId],
              statusIndexKeys,
            );
            lastStatus.forget(runId);
            if (reply[0] === 'OK') {
              deleted += 1;
              if (!indexedByScripts) await index.forget(runId);
            } else if (reply[0] === 'NONE' || (reply[0] === 'SKIP' && reply[1] !== status)) {
              await index.prune(status, runId, before);
            } else {
              kept += 1;
            }
          }
          if (ids.length < page) break;
        }
      }
      return deleted;
    },

    async history(runId: string, options: HistoryOptions = {}) {
      checkId('runId', runId);
      const after = options.after ?? 0;
      const { deadlineMs } = options;
      const reply = await runScript('read history', runId, 'readHistory', [String(after)], [], {
        write: false,
        ...(deadlineMs === undefined ? {} : { deadlineMs }),
      });
      if (reply[0] === 'NONE') return undefined;
      return historyEvents(reply[1], after);
    },

    watch(runId: string, options: WatchHistoryOptions = {}) {
      checkId('runId', runId);
      // A Cluster cannot read many slots' streams in one XREAD: a reader (and connection) per watch there.
      if (connection.client.isCluster) {
        return new HistoryReader(connection.client, unavailableDeadlineMs, closing.signal, true).watch(
          runId,
          runKeys(prefix, runId),
          options,
        );
      }
      reader ??= new HistoryReader(connection.client, unavailableDeadlineMs, closing.signal);
      return reader.watch(runId, runKeys(prefix, runId), options);
    },

    publishProgress(runId: string, report: ProgressReport) {
      // Fire and forget: progress is a hint for live watchers, never worth delaying or failing a task.
      const channel = progressChannel(prefix, runId);
      const sent = connection.client.isCluster
        ? // From the run's node, so one run's reports arrive in order (publishProgress-1.lua.ts).
          connection.script('publishProgress', [runKeys(prefix, runId).meta], [channel, progressText(report)])
        : connection.client.publish(channel, progressText(report));
      sent.catch(() => {});
    },

    listenProgress(runId: string, listener: (report: ProgressReport) => void) {
      progress ??= new ProgressListeners(connection.client, prefix, closing.signal);
      return progress.listen(runId, listener);
    },

    async saveFlow(structure: FlowStructure) {
      await connection.call('store flow', undefined, (client) =>
        client.set(flowKey(prefix, structure.hash), JSON.stringify(structure), 'NX'),
      );
    },

    async loadFlow(hash: string, options: ReadOptions = {}) {
      const { deadlineMs } = options;
      const text = await connection.call(
        'load flow',
        undefined,
        (client) => client.get(flowKey(prefix, hash)),
        options.signal,
        { write: false, ...(deadlineMs === undefined ? {} : { deadlineMs }) },
      );
      return text === null ? undefined : parseFlowStructure(text);
    },

    async close() {
      // Watches hold their own connections: they end (and close them) with the store.
      closing.abort();
      await connection.close();
    },
  };
  return store;
}

/** What to do when Redis stays away, by operation (the message's last sentence). */
function adviceFor(script: string, runId: string): (maybeStored: boolean) => string {
  switch (script) {
    case 'createRun':
      return (maybe) =>
        maybe
          ? `Once Redis is back, engine.resume('${runId}') continues the run if the write landed (else start it again).`
          : `The run was not started; start it again once Redis is reachable.`;
    case 'saveRun':
      return () =>
        `The run stays stored as of its last applied write: engine.resume('${runId}') continues it once Redis is back.`;
    default:
      return () =>
        'Check that Redis is running and reachable, then try again (or raise unavailableDeadlineMs).';
  }
}

function checkStatus(status: unknown): asserts status is RunStatus {
  if (!(RUN_STATUSES as readonly unknown[]).includes(status)) {
    throw new InvalidOptionError('status', `one of ${RUN_STATUSES.join(', ')}`, status);
  }
}

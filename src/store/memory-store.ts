import { LeaseLostError, RunLostError, SnapshotCorruptError, VersionConflictError } from '../errors.js';
import type { FlowStructure } from '../model/flow-structure.js';
import {
  checkHistoryLimit,
  type HistoryOptions,
  type NewRunEvent,
  type RunEvent,
  type WatchHistoryOptions,
} from './run-history.js';
import {
  type CreateOptions,
  FINISHED_STATUSES,
  type ListRunsOptions,
  type PurgeOptions,
  type RunMeta,
  type RunWrite,
  type Store,
  type StoredRun,
} from './store.js';

export interface MemoryStoreOptions {
  /**
   * Events kept per run in its history; the oldest are dropped beyond it.
   * @default 10_000
   */
  historyLimit?: number;
}

/** A run's history in memory. */
interface Log {
  events: RunEvent[];
  last: number;
}

/**
 * The embedded store: runs kept in this process's memory, with the same rules as Redis (fencing,
 * versions, serialised parts, the history appended by each write). The default when `createEngine`
 * is given no store.
 *
 * @example
 * const engine = createEngine({ store: memoryStore(), flows: [bootServer] });
 */
export function memoryStore(options: MemoryStoreOptions = {}): Store {
  const historyLimit = checkHistoryLimit(options.historyLimit);
  const runs = new Map<string, StoredRun>();
  const logs = new Map<string, Log>();
  /** Watches waiting for a run's next event (or its deletion), by run id. */
  const waiting = new Map<string, Set<() => void>>();
  const wake = (runId: string) => {
    for (const done of waiting.get(runId) ?? []) done();
  };
  const catalog = new Map<string, string>();
  const copy = (run: StoredRun): StoredRun => ({ ...run, meta: { ...run.meta }, parts: { ...run.parts } });
  const append = (runId: string, events: readonly NewRunEvent[] | undefined) => {
    if (!events?.length) return;
    let log = logs.get(runId);
    if (!log) {
      log = { events: [], last: 0 };
      logs.set(runId, log);
    }
    for (const event of events) log.events.push({ seq: ++log.last, ...event });
    if (log.events.length > historyLimit) log.events.splice(0, log.events.length - historyLimit);
    wake(runId);
  };
  const forget = (runId: string) => {
    logs.delete(runId);
    wake(runId);
  };
  const after = (runId: string, seq: number): RunEvent[] => {
    const events = logs.get(runId)?.events ?? [];
    // Numbers have no gaps: the first one after `seq` is found by its offset from the oldest kept.
    const from = Math.max(0, seq - (events[0]?.seq ?? 1) + 1);
    return events.slice(from).map((e) => ({ ...e }));
  };
  const closing = new AbortController();
  return {
    async create(meta: RunMeta, parts: Record<string, string>, options: CreateOptions = {}) {
      if (runs.has(meta.id)) return false;
      runs.set(meta.id, { meta: { ...meta }, token: 1, seq: 0, parts: { ...parts } });
      // A run created again under a purged id starts a new history.
      forget(meta.id);
      append(meta.id, options.events);
      return true;
    },
    async claim(runId: string, owner: string) {
      const run = runs.get(runId);
      if (!run) return undefined;
      checkShape(runId, run);
      run.token += 1;
      run.meta.owner = owner;
      return { token: run.token, run: copy(run) };
    },
    async save(write: RunWrite) {
      const run = runs.get(write.runId);
      if (!run) throw new RunLostError(write.runId);
      if (run.token !== write.token) throw new LeaseLostError(write.runId, write.token, run.token);
      if (run.seq + 1 !== write.seq) throw new VersionConflictError(write.runId, run.seq + 1, write.seq);
      run.seq = write.seq;
      run.meta = { ...write.meta };
      Object.assign(run.parts, write.set);
      for (const key of write.del ?? []) delete run.parts[key];
      append(write.runId, write.events);
    },
    async load(runId: string) {
      const run = runs.get(runId);
      if (!run) return undefined;
      checkShape(runId, run);
      return copy(run);
    },
    async list(options: ListRunsOptions = {}) {
      const statuses = options.status === undefined ? undefined : [options.status].flat();
      return [...runs.values()]
        .map((run) => run.meta)
        .filter(
          (meta) =>
            (!statuses || statuses.includes(meta.status)) && (!options.flow || meta.flow === options.flow),
        )
        .sort((a, b) => b.updatedAt - a.updatedAt)
        .slice(0, options.limit ?? 100)
        .map((meta) => ({ ...meta }));
    },
    async delete(runId: string) {
      forget(runId);
      return runs.delete(runId);
    },
    async purge(options: PurgeOptions) {
      const statuses = options.status ?? FINISHED_STATUSES;
      const before = Date.now() - options.olderThanMs;
      let deleted = 0;
      for (const [id, run] of runs) {
        if (statuses.includes(run.meta.status) && run.meta.updatedAt < before) {
          runs.delete(id);
          forget(id);
          deleted += 1;
        }
      }
      return deleted;
    },
    async close() {
      closing.abort();
    },
    async history(runId: string, options: HistoryOptions = {}) {
      if (!runs.has(runId)) return undefined;
      return after(runId, options.after ?? 0);
    },
    async *watch(runId: string, options: WatchHistoryOptions = {}) {
      let seen = options.after ?? 0;
      const { signal } = options;
      while (!signal?.aborted && !closing.signal.aborted) {
        const events = after(runId, seen);
        for (const event of events) {
          yield event;
          seen = event.seq;
        }
        if (events.length > 0) continue;
        // Like Redis: a watch of a run that is gone (deleted, purged) ends.
        if (!runs.has(runId)) return;
        // Wait for the next append (or the end of the watch), registered before anything can append.
        const set = waiting.get(runId) ?? new Set<() => void>();
        waiting.set(runId, set);
        await new Promise<void>((resolve) => {
          const done = () => {
            set.delete(done);
            if (set.size === 0 && waiting.get(runId) === set) waiting.delete(runId);
            signal?.removeEventListener('abort', done);
            closing.signal.removeEventListener('abort', done);
            resolve();
          };
          set.add(done);
          signal?.addEventListener('abort', done, { once: true });
          closing.signal.addEventListener('abort', done, { once: true });
        });
      }
    },
    async saveFlow(structure: FlowStructure) {
      if (!catalog.has(structure.hash)) catalog.set(structure.hash, JSON.stringify(structure));
    },
    async loadFlow(hash: string) {
      const text = catalog.get(hash);
      return text === undefined ? undefined : (JSON.parse(text) as FlowStructure);
    },
  };
}

function checkShape(runId: string, run: StoredRun): void {
  if (typeof run.meta?.flow !== 'string' || typeof run.meta.hash !== 'string') {
    throw new SnapshotCorruptError(runId, 'meta has no flow name or hash');
  }
}

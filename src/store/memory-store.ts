import { LeaseLostError, SnapshotCorruptError, VersionConflictError } from '../errors.js';
import {
  FINISHED_STATUSES,
  type ListRunsOptions,
  type PurgeOptions,
  type RunMeta,
  type RunWrite,
  type Store,
  type StoredRun,
} from './store.js';

/**
 * The embedded store: runs kept in this process's memory, with the same rules as Redis (fencing,
 * versions, serialised parts). The default when `createEngine` is given no store.
 *
 * @example
 * const engine = createEngine({ store: memoryStore(), flows: [bootServer] });
 */
export function memoryStore(): Store {
  const runs = new Map<string, StoredRun>();
  const copy = (run: StoredRun): StoredRun => ({ ...run, meta: { ...run.meta }, parts: { ...run.parts } });
  return {
    async create(meta: RunMeta, parts: Record<string, string>) {
      if (runs.has(meta.id)) return false;
      runs.set(meta.id, { meta: { ...meta }, token: 1, seq: 0, parts: { ...parts } });
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
      if (!run) throw new LeaseLostError(write.runId, write.token);
      if (run.token !== write.token) throw new LeaseLostError(write.runId, write.token, run.token);
      if (run.seq + 1 !== write.seq) throw new VersionConflictError(write.runId, run.seq + 1, write.seq);
      run.seq = write.seq;
      run.meta = { ...write.meta };
      Object.assign(run.parts, write.set);
      for (const key of write.del ?? []) delete run.parts[key];
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
      return runs.delete(runId);
    },
    async purge(options: PurgeOptions) {
      const statuses = options.status ?? FINISHED_STATUSES;
      const before = Date.now() - options.olderThanMs;
      let deleted = 0;
      for (const [id, run] of runs) {
        if (statuses.includes(run.meta.status) && run.meta.updatedAt < before) {
          runs.delete(id);
          deleted += 1;
        }
      }
      return deleted;
    },
    async close() {},
  };
}

function checkShape(runId: string, run: StoredRun): void {
  if (typeof run.meta?.flow !== 'string' || typeof run.meta.hash !== 'string') {
    throw new SnapshotCorruptError(runId, 'meta has no flow name or hash');
  }
}

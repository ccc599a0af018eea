import type { RedisConnection } from './redis-connection.js';
import { decodeMeta, indexKey, RUN_KIND, runKeys } from './redis-run-fields.js';
import { type ListedRun, RUN_STATUSES, type RunMeta, type RunStatus } from './store.js';

/**
 * Status indexes: one sorted set per status (`<prefix>:idx:<STATUS>`, runId scored by updatedAt).
 *
 * On a single Redis the run's own scripts (createRun-10, saveRun-10, deleteRun-10) move its entry in the
 * same atomic step as its status, and `update()`/`forget()` are not used. In a Cluster (or behind a
 * plain client whose server is cluster-enabled) the indexes live on other slots than the runs, so a
 * run's script cannot update them: they are updated right after it, best-effort. Readers treat an
 * entry as a hint either way (an entry may also be left by an older version): `list()` re-reads each candidate's meta, keeps it only if its status still
 * matches, and prunes stale entries with a score check (`pruneIndex-1`) so a late removal never
 * drops an entry that a newer write added.
 */
export class StatusIndex {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {}

  /** In a Cluster, after a run's write moved it from `previous` (if known) to `meta.status`. Never throws. */
  async update(meta: RunMeta, previous?: { status: string; updatedAt: number }): Promise<void> {
    try {
      // GT: a late update from an older write does not move a newer entry back in time.
      // Both in flight at once: different keys (other slots in a Cluster), one round trip.
      await Promise.all([
        this.redis.call('index run', meta.id, (client) =>
          client.zadd(indexKey(this.prefix, meta.status), 'GT', meta.updatedAt, meta.id),
        ),
        previous && previous.status !== meta.status && isStatus(previous.status)
          ? this.prune(previous.status, meta.id, previous.updatedAt)
          : undefined,
      ]);
    } catch {
      // The write itself is durable; a missing entry only hides the run from list() until its next write.
    }
  }

  /** Remove `runId` from every status index (after a delete). */
  async forget(runId: string): Promise<void> {
    await this.redis.call('delete run index entries', runId, (client) =>
      Promise.all(RUN_STATUSES.map((status) => client.zrem(indexKey(this.prefix, status), runId))),
    );
  }

  prune(status: RunStatus, runId: string, maxScore: number): Promise<unknown> {
    return this.redis.call('prune run index entry', runId, () =>
      this.redis.script('pruneIndex', [indexKey(this.prefix, status)], [runId, String(maxScore)]),
    );
  }

  /**
   * Metadata of runs with one of `statuses` (and `flow`, if given), newest first: a k-way merge over
   * the status indexes, read a page at a time, each candidate's meta checked.
   */
  async list(statuses: readonly RunStatus[], flow: string | undefined, limit: number): Promise<ListedRun[]> {
    const page = Math.min(Math.max(limit, 50), 1000);
    const cursors = statuses.map((status) => ({ status, offset: 0, buffer: [] as Entry[], done: false }));
    const out: { run: ListedRun; at: number }[] = [];
    while (out.length < limit) {
      await Promise.all(
        cursors
          .filter((c) => c.buffer.length === 0 && !c.done)
          .map(async (c) => {
            const reply = await this.redis.call(
              'list runs',
              undefined,
              (client) =>
                client.zrevrange(
                  indexKey(this.prefix, c.status),
                  c.offset,
                  c.offset + page - 1,
                  'WITHSCORES',
                ),
              undefined,
              { write: false },
            );
            for (let i = 0; i + 1 < reply.length; i += 2) {
              c.buffer.push({ runId: reply[i]!, score: Number(reply[i + 1]), status: c.status });
            }
            c.offset += page;
            if (reply.length < page * 2) c.done = true;
          }),
      );
      const batch: Entry[] = [];
      while (batch.length < limit - out.length) {
        // Take the newest head; stop when some index's page ran out and needs reading first.
        let best: (typeof cursors)[number] | undefined;
        for (const c of cursors) {
          if (c.buffer.length === 0) {
            if (!c.done) {
              best = undefined;
              break;
            }
            continue;
          }
          if (!best || c.buffer[0]!.score > best.buffer[0]!.score) best = c;
        }
        if (!best) break;
        batch.push(best.buffer.shift()!);
      }
      if (batch.length === 0 && cursors.every((c) => c.done && c.buffer.length === 0)) break;
      const checked = await Promise.all(batch.map((entry) => this.check(entry)));
      for (const found of checked) {
        // A corrupt run whose flow cannot be read is listed under any flow: a listing never hides a run.
        if (found && (flow === undefined || found.flow === undefined || found.flow === flow)) out.push(found);
      }
    }
    return out.sort((a, b) => b.at - a.at).map((found) => found.run);
  }

  /** Candidate ids for purge: entries of `status` scored below `before`, oldest first. */
  async older(status: RunStatus, before: number, offset: number, count: number): Promise<string[]> {
    return this.redis.call(
      'purge runs',
      undefined,
      (client) =>
        client.zrangebyscore(indexKey(this.prefix, status), '-inf', `(${before}`, 'LIMIT', offset, count),
      undefined,
      { write: false },
    );
  }

  /**
   * The run's meta if the entry is current; `{ id, corrupt }` if the run's data is not a run's (listed
   * with the reason, never left out); undefined (and the entry pruned) if the entry is stale.
   */
  private async check(entry: Entry): Promise<{ run: ListedRun; at: number; flow?: string } | undefined> {
    const names = [
      'kind',
      'flow',
      'version',
      'hash',
      'status',
      'createdAt',
      'updatedAt',
      'owner',
      'token',
      'seq',
    ] as const;
    const corrupt = (reason: string, flow?: string | null) => ({
      run: { id: entry.runId, corrupt: reason },
      at: entry.score,
      ...(typeof flow === 'string' ? { flow } : {}),
    });
    const keys = runKeys(this.prefix, entry.runId);
    let values: (string | null)[];
    try {
      values = await this.redis.call(
        'list runs',
        entry.runId,
        (client) => client.hmget(keys.meta, ...names),
        undefined,
        { write: false },
      );
    } catch (error) {
      if (error instanceof Error && error.name === 'SnapshotCorruptError') {
        return corrupt('the meta key is not a hash');
      }
      throw error;
    }
    const fields = Object.fromEntries(names.map((name, i) => [name, values[i]]));
    if (fields.kind === null && values.some((value) => value !== null)) {
      return corrupt('meta has no taskweave marker', fields.flow);
    }
    if (fields.kind === null) {
      // No meta: deleted (the entry is stale), unless its parts are still there.
      const parts = await this.redis.call(
        'list runs',
        entry.runId,
        (client) => client.exists(keys.parts),
        undefined,
        {
          write: false,
        },
      );
      if (parts === 1) return corrupt('parts exist without meta');
      await this.prune(entry.status, entry.runId, entry.score).catch(() => {});
      return undefined;
    }
    if (fields.kind !== RUN_KIND) {
      return corrupt(
        `meta has no taskweave marker (kind is ${String(fields.kind).slice(0, 40)})`,
        fields.flow,
      );
    }
    if (!INTEGER.test(fields.token ?? '') || !INTEGER.test(fields.seq ?? '')) {
      return corrupt('meta token or seq is not a non-negative integer', fields.flow);
    }
    let meta: RunMeta;
    try {
      meta = decodeMeta(entry.runId, fields);
    } catch (error) {
      const detail = (error as { detail?: unknown }).detail;
      return corrupt(typeof detail === 'string' ? detail : (error as Error).message, fields.flow);
    }
    if (meta.status !== entry.status) {
      await this.prune(entry.status, entry.runId, entry.score).catch(() => {});
      return undefined;
    }
    return { run: meta, at: meta.updatedAt, flow: meta.flow };
  }
}

const INTEGER = /^\d+$/;

interface Entry {
  runId: string;
  score: number;
  status: RunStatus;
}

function isStatus(value: string): value is RunStatus {
  return (RUN_STATUSES as readonly string[]).includes(value);
}

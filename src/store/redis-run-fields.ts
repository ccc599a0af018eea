import { InvalidOptionError, SnapshotCorruptError } from '../errors.js';
import { asRunEvent, type NewRunEvent, type RunEvent, toRunEvent } from './run-history.js';
import { RUN_STATUSES, type RunMeta, type RunStatus, type StoredRun } from './store.js';

/**
 * How a run is laid out in Redis, and the checks that turn what Redis holds back into a `StoredRun`.
 *
 * - `{<prefix>:<runId>}:meta`  hash: kind, flow, version, hash, status, token, seq, createdAt,
 *   updatedAt, owner?
 * - `{<prefix>:<runId>}:parts` hash: part name → string
 * - `{<prefix>:<runId>}:events` stream: the run's history, one entry per write that records events,
 *   appended by that write: id `0-<seq of its last event>`, field `b` (its events as a JSON array of
 *   rows, see `batchRows`, numbered up to that seq); entries written before batching hold one event each (id `0-<seq>`,
 *   field `e`, the event as JSON). Meta's `events` is the last seq
 * - `{<prefix>:<runId>}:outbox:<id>` string: a distributed step's outbox entry on a Cluster, until
 *   relayed (redis-outbox.ts)
 * - `{<prefix>}:flow:<hash>`   string: a flow's structure as JSON (the flow catalog), written if absent
 * - `<prefix>:idx:<STATUS>`    sorted set: runId scored by updatedAt (written with the run on a single
 *   Redis, best-effort after it in a Cluster; re-checked on read)
 *
 * The hash tag keeps a run's three keys on one Cluster slot, so its scripts may touch both. The names
 * are made in src/redis/keys.ts, with every other key taskweave uses.
 */
export { flowKey, indexKey, type RunKeys, runKeys } from '../redis/keys.js';

/** Marks a meta hash as taskweave's, version 1 of the layout. Anything else there is foreign data. */
export const RUN_KIND = 'tw:run:1';

/** The 8-value meta block every writing script takes (see `writeMeta` in check-run.lua.ts). */
export function metaArgs(meta: RunMeta): string[] {
  return [
    meta.flow,
    meta.version,
    meta.hash,
    meta.status,
    String(meta.createdAt),
    String(meta.updatedAt),
    meta.owner === undefined ? '0' : '1',
    meta.owner ?? '',
  ];
}

export function pairArgs(runId: string, parts: Record<string, string>): string[] {
  const args: string[] = [];
  for (const [name, value] of Object.entries(parts)) {
    if (typeof value !== 'string') {
      throw new InvalidOptionError(`part \`${name}\` of run \`${runId}\``, 'a string', value);
    }
    args.push(name, value);
  }
  return args;
}

/** Flat `HGETALL` reply → record. */
export function fieldsOf(flat: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

const STATUSES: ReadonlySet<string> = new Set(RUN_STATUSES);

/** Meta fields → `RunMeta`; throws `SnapshotCorruptError` naming the first bad field. */
export function decodeMeta(runId: string, fields: Record<string, string | null | undefined>): RunMeta {
  const corrupt = (detail: string) => new SnapshotCorruptError(runId, detail);
  if (fields.kind !== RUN_KIND)
    throw corrupt(`meta has no taskweave marker (kind is ${String(fields.kind)})`);
  const { flow, version, hash, status } = fields;
  if (typeof flow !== 'string' || typeof hash !== 'string') throw corrupt('meta has no flow name or hash');
  if (typeof version !== 'string') throw corrupt('meta has no flow version');
  if (typeof status !== 'string' || !STATUSES.has(status))
    throw corrupt(`meta status \`${String(status)}\` is unknown`);
  const createdAt = Number(fields.createdAt);
  const updatedAt = Number(fields.updatedAt);
  if (!Number.isFinite(createdAt) || !Number.isFinite(updatedAt))
    throw corrupt('meta timestamps are not numbers');
  const meta: RunMeta = { id: runId, flow, version, hash, status: status as RunStatus, createdAt, updatedAt };
  if (typeof fields.owner === 'string') meta.owner = fields.owner;
  return meta;
}

/** A script's `metaFields, partFields` pair → `StoredRun`. */
export function decodeRun(runId: string, metaFlat: unknown, partsFlat: unknown): StoredRun {
  const fields = fieldsOf(metaFlat);
  const meta = decodeMeta(runId, fields);
  const token = Number(fields.token);
  const seq = Number(fields.seq);
  if (!Number.isSafeInteger(token) || !Number.isSafeInteger(seq)) {
    throw new SnapshotCorruptError(runId, 'meta token or seq is not an integer');
  }
  return { meta, token, seq, parts: fieldsOf(partsFlat) };
}

/**
 * The history block a writing script takes after its parts (see `appendEvents` in check-run.lua.ts):
 * the cap, the number of events, and the events as one JSON array of rows (`batchRows`: one argument,
 * stored as it is).
 */
export function eventArgs(limit: string, events: readonly NewRunEvent[] | undefined): string[] {
  const list = events ?? [];
  if (list.length === 0) return [limit, '0', ''];
  return [limit, String(list.length), JSON.stringify(batchRows(list))];
}

/**
 * A write's events as rows, about a third the size of the events as objects (every write carries
 * them, and on loopback a request costs Redis and the client by its bytes): `[dt, task, state,
 * attempt, errorName?, errorMessage?]` for a task's change, `[dt, 0, status]` for the run's; `dt` is
 * the time since the previous event of the batch (the first's is its time), mostly 0.
 */
function batchRows(events: readonly NewRunEvent[]): unknown[][] {
  let previous = 0;
  return events.map(({ at, task, state, attempt, error }) => {
    const row: unknown[] = [at - previous, task ?? 0, state];
    previous = at;
    if (task !== undefined) row.push(attempt ?? 0);
    if (error) row.push(error.name, error.message);
    return row;
  });
}

/** A batch's rows (see `batchRows`) as events; a row that is not one is passed on as it is (and refused). */
function fromRows(values: readonly unknown[]): unknown[] {
  let at = 0;
  return values.map((value) => {
    if (!Array.isArray(value)) return value;
    const [dt, task, state, attempt, name, message] = value as unknown[];
    if (typeof dt !== 'number') return undefined;
    at += dt;
    if (task === 0) return { at, state };
    const event: Record<string, unknown> = { at, task, state, attempt };
    if (typeof name === 'string') event.error = { name, message: String(message) };
    return event;
  });
}

/**
 * `XRANGE`/`XREAD` entries (`[id, [field, value, …]]`) → the events after seq `after`; entries that
 * are not ours are skipped. An entry is a write's batch (field `b`: its events, the last numbered by
 * the id) or, as stored before batching, one event (field `e`, numbered by the id). A read that
 * starts after a seq inside a batch gets that batch: its events up to `after` are dropped here.
 */
export function historyEvents(entries: unknown, after = 0): RunEvent[] {
  const events: RunEvent[] = [];
  if (!Array.isArray(entries)) return events;
  for (const entry of entries as [string, string[]][]) {
    const [id, fields] = entry;
    if (!Array.isArray(fields)) continue;
    const top = Number(String(id).split('-')[1]);
    const batch = fieldOf(fields, 'b');
    if (batch !== undefined) {
      let values: unknown;
      try {
        values = JSON.parse(batch);
      } catch {
        continue;
      }
      if (!Array.isArray(values)) continue;
      const first = top - values.length + 1;
      fromRows(values).forEach((value, i) => {
        if (first + i <= after) return;
        const event = asRunEvent(first + i, value);
        if (event) events.push(event);
      });
      continue;
    }
    const single = fieldOf(fields, 'e');
    const event = single === undefined || top <= after ? undefined : toRunEvent(top, single);
    if (event) events.push(event);
  }
  return events;
}

/** The value of a field in a stream entry's flat `[field, value, …]` list. */
function fieldOf(fields: readonly unknown[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return String(fields[i + 1]);
  return undefined;
}

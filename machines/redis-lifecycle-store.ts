import type { Cluster, Redis } from 'ioredis';
import { SnapshotCorruptError, TaskweaveError } from '../src/index.js';
import { parse, stringify } from '../src/model/codec.js';
import { openConnection, storeConnection } from '../src/redis/connection.js';
import { lifecycleKey } from '../src/redis/keys.js';
import { checkId, validateRedisOptions } from '../src/redis/options.js';
import { LifecycleConflictError, LifecycleNotFinalError, LifecycleStoreError } from './errors.js';
import { deleteLifecycle } from './lua/deleteLifecycle-1.lua.js';
import { saveLifecycle } from './lua/saveLifecycle-1.lua.js';
import type { LifecycleStore } from './runner.js';

export interface RedisLifecycleStoreOptions {
  /**
   * A `redis://` or `rediss://` URL, for which the store opens its own client and closes it in
   * `close()`, or an ioredis `Redis` or `Cluster` client, which is left open.
   */
  redis: string | Redis | Cluster;
  /**
   * Key prefix: a resource's snapshot is the hash `{<prefix>:<resourceId>}:lifecycle`. It may be the
   * prefix of a `redisStore()`: run keys end differently.
   * @default 'tw'
   */
  prefix?: string;
  /** How long a command may wait for an unavailable Redis before it rejects with `StoreUnavailableError`. @default 30_000 */
  unavailableDeadlineMs?: number;
}

export interface RedisLifecycleStore extends LifecycleStore {
  /** Delete a final resource's record (atomically checked in Redis); refuses one that is not final. */
  delete(resourceId: string): Promise<boolean>;
  /** Close the client if the store opened it (from a URL). Idempotent. */
  close(): Promise<void>;
}

/** Marks a hash as a taskweave lifecycle snapshot, version 1 of the layout. Anything else is foreign data. */
export const LIFECYCLE_KIND = 'tw:lifecycle:1';

const SCRIPTS = [saveLifecycle, deleteLifecycle];

/**
 * A `LifecycleStore` in Redis or Redis Cluster. Each resource is one hash under its own hash tag
 * (`kind`, `v`, `snapshot` in the codec's JSON). Saves are compare-and-set on `v` (one Lua script):
 * the store remembers the version it loaded or last saved per resource, and a save over a version some
 * other runner wrote since is refused with `LifecycleConflictError`, which stops that runner; so two
 * processes never both advance one resource. A key holding anything else gives `SnapshotCorruptError`
 * for that resource only. Every error it throws is a `TaskweaveError` (`StoreUnavailableError` after
 * `unavailableDeadlineMs`, `LifecycleStoreError` for anything else, with the client's error as `cause`).
 *
 * @example
 * const store = redisLifecycleStore({ redis: 'redis://127.0.0.1:6379', prefix: 'prod' });
 * const run = await runLifecycle(serverMachine, { resourceId: 'srv-1', actions, store });
 * // later
 * await run.stop();
 * await store.close();
 */
export function redisLifecycleStore(options: RedisLifecycleStoreOptions): RedisLifecycleStore {
  const { redis, prefix, unavailableDeadlineMs } = typed('open the store', undefined, () =>
    validateRedisOptions(options),
  );
  const connection = openConnection(redis, unavailableDeadlineMs, SCRIPTS, storeConnection('resource'));
  /** Per resource: the version this store last loaded or wrote, which its next save must still find. */
  const versions = new Map<string, number>();
  const keyOf = (resourceId: string) => lifecycleKey(prefix, resourceId);

  return {
    load: (resourceId) =>
      typedAsync('load', resourceId, async () => {
        checkId('resourceId', resourceId);
        const [kind, v, text] = await connection.call('load lifecycle', resourceId, (client) =>
          client.hmget(keyOf(resourceId), 'kind', 'v', 'snapshot'),
        );
        if (kind === null && v === null && text === null) {
          versions.set(resourceId, 0);
          return undefined;
        }
        if (kind !== LIFECYCLE_KIND) throw new SnapshotCorruptError(resourceId, `kind marker is \`${kind}\``);
        const version = Number(v);
        if (!Number.isSafeInteger(version) || version < 1) {
          throw new SnapshotCorruptError(resourceId, `version is \`${v}\``);
        }
        if (text === null || text === undefined)
          throw new SnapshotCorruptError(resourceId, 'it has no snapshot');
        let snapshot: unknown;
        try {
          snapshot = parse(text);
        } catch (error) {
          throw new SnapshotCorruptError(
            resourceId,
            `the snapshot is not the codec's JSON (${(error as Error).message})`,
          );
        }
        versions.set(resourceId, version);
        return snapshot;
      }),

    save: (resourceId, snapshot) =>
      typedAsync('save', resourceId, async () => {
        checkId('resourceId', resourceId);
        const expected = versions.get(resourceId) ?? 0;
        const text = stringify(snapshot);
        const reply = (await connection.call('save lifecycle', resourceId, () =>
          connection.script(
            saveLifecycle.name,
            [keyOf(resourceId)],
            [LIFECYCLE_KIND, String(expected), text],
          ),
        )) as [string, string];
        if (reply[0] === 'CORRUPT') throw new SnapshotCorruptError(resourceId, reply[1]);
        if (reply[0] === 'CONFLICT') throw new LifecycleConflictError(resourceId, expected, Number(reply[1]));
        versions.set(resourceId, Number(reply[1]));
      }),

    delete: (resourceId) =>
      typedAsync('delete', resourceId, async () => {
        checkId('resourceId', resourceId);
        const reply = (await connection.call('delete lifecycle', resourceId, () =>
          connection.script(deleteLifecycle.name, [keyOf(resourceId)], [LIFECYCLE_KIND]),
        )) as [string, string];
        if (reply[0] === 'CORRUPT') throw new SnapshotCorruptError(resourceId, reply[1]);
        if (reply[0] === 'NOT_FINAL') throw new LifecycleNotFinalError(resourceId, reply[1]);
        versions.delete(resourceId);
        return reply[1] === '1';
      }),

    close: () => typedAsync('close', undefined, () => connection.close()),
  };
}

/** Errors that are not taskweave's own (bad options, an unexpected Redis reply) become `LifecycleStoreError`. */
function typed<T>(operation: string, resourceId: string | undefined, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw asTaskweave(operation, resourceId, error);
  }
}

async function typedAsync<T>(operation: string, resourceId: string | undefined, work: () => Promise<T>) {
  try {
    return await work();
  } catch (error) {
    throw asTaskweave(operation, resourceId, error);
  }
}

function asTaskweave(operation: string, resourceId: string | undefined, error: unknown): TaskweaveError {
  return error instanceof TaskweaveError ? error : new LifecycleStoreError(operation, resourceId, error);
}

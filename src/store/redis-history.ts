import { StoreUnavailableError } from '../errors.js';
import { duplicateClient } from '../redis/client.js';
import type { RedisConnection } from './redis-connection.js';
import { historyEvents, type RunKeys } from './redis-run-fields.js';
import type { RunEvent, WatchHistoryOptions } from './run-history.js';

/** How long one `XREAD` blocks before the watch checks that the run still exists. */
const BLOCK_MS = 5_000;

/**
 * A run's history from `after` on, past and live, read with `XREAD BLOCK` on a connection of its own
 * (a blocked read would stall every command behind it on the store's shared connection). The
 * connection is opened when the watch starts and closed when it ends: by `signal`, by the store's
 * close, by the consumer leaving its loop (`return()`), or when the run is deleted.
 *
 * An unreachable Redis is retried until `deadlineMs` has passed without a reply, then the watch
 * throws `StoreUnavailableError`.
 */
export async function* watchStream(
  connection: RedisConnection,
  runId: string,
  keys: RunKeys,
  options: WatchHistoryOptions,
  deadlineMs: number,
  closing: AbortSignal,
): AsyncGenerator<RunEvent> {
  const { signal } = options;
  if (signal?.aborted || closing.aborted) return;
  // Its errors surface through its commands (duplicateClient listens, so ioredis logs none of them).
  const client = duplicateClient(connection.client);
  const stop = () => client.disconnect();
  signal?.addEventListener('abort', stop, { once: true });
  closing.addEventListener('abort', stop, { once: true });
  const ended = () => signal?.aborted === true || closing.aborted;
  let seen = options.after ?? 0;
  let lastReply = Date.now();
  let delay = 50;
  try {
    while (!ended()) {
      let reply: unknown;
      try {
        reply = await client.xread('COUNT', 1000, 'BLOCK', BLOCK_MS, 'STREAMS', keys.events, `0-${seen}`);
        if (reply === null && (await client.exists(keys.meta)) === 0) return; // the run was deleted
        lastReply = Date.now();
        delay = 50;
      } catch (error) {
        if (ended()) return;
        if (Date.now() - lastReply > deadlineMs) {
          throw new StoreUnavailableError(
            `Redis did not answer (watch history of run \`${runId}\`) within unavailableDeadlineMs of ${deadlineMs} ms: ${(error as Error).message}`,
            { cause: error },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 1_000);
        continue;
      }
      const entries = ((reply ?? []) as [string, [string, unknown][]][])[0]?.[1] ?? [];
      const last = entries.at(-1);
      // Read on from the last entry, even one that is not an event (skipped, not read forever).
      const next = last ? Number(String(last[0]).split('-')[1]) : seen;
      for (const event of historyEvents(entries)) {
        yield event;
        if (ended()) return;
      }
      seen = next;
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    closing.removeEventListener('abort', stop);
    client.disconnect();
  }
}

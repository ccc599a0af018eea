import { StoreUnavailableError } from '../errors.js';
import { duplicateClient, type RedisClient } from '../redis/client.js';
import { historyEvents, type RunKeys } from './redis-run-fields.js';
import type { RunEvent, WatchHistoryOptions } from './run-history.js';

/** How long one `XREAD` blocks before the reader checks that the runs it follows still exist. */
const BLOCK_MS = 5_000;
/** How long it blocks when Redis refuses CLIENT ID / CLIENT UNBLOCK (an ACL): a new watch waits at most this. */
const SHORT_BLOCK_MS = 100;
/** Entries read per stream and round. */
const COUNT = 1_000;

/** One watch of one run: where it has read to, what it has not yet taken, how to wake it. */
interface Watcher {
  runId: string;
  keys: RunKeys;
  seen: number;
  events: RunEvent[];
  /** Set when the watch must end: the run was deleted, or Redis stayed unreachable. */
  end?: { error?: Error };
  wake?: (() => void) | undefined;
}

/**
 * Every watch of one store's runs' histories, read by one connection with one `XREAD BLOCK` over all
 * their streams, instead of a connection per watch: a distributed engine follows every run it
 * starts, and a connection each would exhaust file descriptors and Redis' `maxclients` at a few
 * thousand runs in flight (an ordinary Linux `ulimit -n` of 1,024 ends a process at ~1,000).
 *
 * A watch added while a read is blocked wakes it with `CLIENT UNBLOCK` from the store's own
 * connection, so it is read from at once. The connection opens with the first watch and closes with
 * the last. A Redis Cluster cannot read streams of many slots in one command: there the store makes a
 * reader per watch (`alone`), which never needs to wake its read.
 */
export class HistoryReader {
  private readonly watchers = new Set<Watcher>();
  private client: RedisClient | undefined;
  /** The reader connection's id (for CLIENT UNBLOCK); unknown until asked, reset when it reconnects. */
  private clientId: number | undefined;
  /** False once Redis refused CLIENT ID or CLIENT UNBLOCK: then reads block briefly instead. */
  private canUnblock = true;
  /** A reader of one watch never wakes its read: it blocks the whole BLOCK_MS and asks no CLIENT ID. */
  private alone = false;
  /** The streams the read in flight covers; undefined when no read is in flight. */
  private reading: ReadonlySet<Watcher> | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    /** The store's shared connection, for CLIENT UNBLOCK and the existence checks. */
    private readonly main: RedisClient,
    private readonly deadlineMs: number,
    private readonly closing: AbortSignal,
    /** One watch only (a Cluster): no other watch joins, so the read is never woken. */
    alone = false,
  ) {
    this.alone = alone;
    // One listener for every watch (a listener per watch would trip Node's MaxListeners warning).
    closing.addEventListener(
      'abort',
      () => {
        this.client?.disconnect();
        for (const watcher of this.watchers) watcher.wake?.();
      },
      { once: true },
    );
  }

  /** A run's history from `options.after` on, past and live; ends when the run is deleted. */
  async *watch(runId: string, keys: RunKeys, options: WatchHistoryOptions): AsyncGenerator<RunEvent> {
    const { signal } = options;
    if (signal?.aborted || this.closing.aborted) return;
    const watcher: Watcher = { runId, keys, seen: options.after ?? 0, events: [] };
    const ended = () => signal?.aborted === true || this.closing.aborted;
    const wake = () => watcher.wake?.();
    signal?.addEventListener('abort', wake, { once: true });
    this.add(watcher);
    try {
      while (!ended()) {
        const event = watcher.events.shift();
        if (event) {
          yield event;
          continue;
        }
        if (watcher.end) {
          if (watcher.end.error) throw watcher.end.error;
          return;
        }
        await new Promise<void>((resolve) => {
          watcher.wake = resolve;
        });
        watcher.wake = undefined;
      }
    } finally {
      signal?.removeEventListener('abort', wake);
      this.watchers.delete(watcher);
    }
  }

  private add(watcher: Watcher): void {
    this.watchers.add(watcher);
    this.loop ??= this.run().finally(() => {
      this.loop = undefined;
      // A watch added as the loop was ending starts the next one.
      if (this.watchers.size > 0 && !this.closing.aborted) this.add([...this.watchers][0]!);
    });
    if (this.reading && !this.alone) void this.unblock();
  }

  /** Wake the blocked read so that it starts again with the new watch's stream among its own. */
  private async unblock(): Promise<void> {
    const round = this.reading;
    // The unblock can reach Redis before the read it should end: try again until that read ended.
    while (this.reading === round && round !== undefined && this.clientId !== undefined) {
      let unblocked: unknown;
      try {
        unblocked = await this.main.client('UNBLOCK', this.clientId);
      } catch (error) {
        // Refused (an ACL without CLIENT) or unreachable: the short block serves new watches instead.
        if (isReply(error)) this.canUnblock = false;
        return;
      }
      if (unblocked === 1 || this.reading !== round) return;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  private async run(): Promise<void> {
    if (!this.client) {
      this.client = duplicateClient(this.main);
      // A reconnected connection has another id.
      this.client.on('ready', () => {
        this.clientId = undefined;
      });
    }
    const client = this.client;
    let lastReply = Date.now();
    let delay = 50;
    try {
      while (this.watchers.size > 0 && !this.closing.aborted) {
        const round = new Set(this.watchers);
        // One read per stream, from the least any of its watchers has seen.
        const from = new Map<string, number>();
        for (const w of round) from.set(w.keys.events, Math.min(from.get(w.keys.events) ?? w.seen, w.seen));
        let reply: unknown;
        try {
          if (!this.alone && this.canUnblock && this.clientId === undefined) {
            this.clientId = await client.client('ID').then(Number, (error: unknown) => {
              if (!isReply(error)) throw error;
              this.canUnblock = false;
              return undefined;
            });
          }
          this.reading = round;
          reply = await client.xread(
            'COUNT',
            COUNT,
            'BLOCK',
            this.canUnblock ? BLOCK_MS : SHORT_BLOCK_MS,
            'STREAMS',
            ...from.keys(),
            ...[...from.values()].map((seen) => `0-${seen}`),
          );
          this.reading = undefined;
          lastReply = Date.now();
          delay = 50;
        } catch (error) {
          this.reading = undefined;
          if (this.closing.aborted) return;
          if (Date.now() - lastReply > this.deadlineMs) {
            for (const w of round) {
              w.end = {
                error: new StoreUnavailableError(
                  `Redis did not answer (watch history of run \`${w.runId}\`) within unavailableDeadlineMs of ${this.deadlineMs} ms: ${(error as Error).message}`,
                  { cause: error },
                ),
              };
              this.watchers.delete(w);
              w.wake?.();
            }
            continue;
          }
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(delay * 2, 1_000);
          continue;
        }
        if (reply === null) {
          // Nothing new for BLOCK_MS (or a new watch woke the read): are the quiet runs still there?
          if (this.canUnblock && this.watchers.size === round.size) await this.endDeleted(round);
          else if (Date.now() - this.checked > BLOCK_MS) await this.endDeleted(round);
          continue;
        }
        const byStream = new Map((reply as [string, [string, unknown][]][]).map(([key, e]) => [key, e]));
        for (const w of round) {
          const entries = byStream.get(w.keys.events);
          if (!entries || entries.length === 0) continue;
          // Read on from the last entry, even one that is not an event (skipped, not read forever).
          const last = Number(String(entries.at(-1)![0]).split('-')[1]);
          if (last <= w.seen) continue;
          // A batch read after a seq inside it gives only its later events.
          w.events.push(...historyEvents(entries, w.seen));
          w.seen = last;
          w.wake?.();
        }
      }
    } finally {
      this.reading = undefined;
      // The last watch left: close the connection until the next one.
      if (this.client === client && (this.watchers.size === 0 || this.closing.aborted)) {
        this.client = undefined;
        this.clientId = undefined;
        client.disconnect();
      }
    }
  }

  /** When `endDeleted` last ran. */
  private checked = Date.now();

  /** End the watches of runs that are no longer stored. */
  private async endDeleted(round: ReadonlySet<Watcher>): Promise<void> {
    this.checked = Date.now();
    const watchers = [...round].filter((w) => this.watchers.has(w));
    const exists = await Promise.all(watchers.map((w) => this.main.exists(w.keys.meta).catch(() => 1)));
    watchers.forEach((w, i) => {
      if (exists[i] !== 0) return;
      w.end = {};
      this.watchers.delete(w);
      w.wake?.();
    });
  }
}

/** Is this a Redis error reply (as opposed to a connection failure)? */
function isReply(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

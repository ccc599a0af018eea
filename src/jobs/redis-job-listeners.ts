import type { CallSpec } from '../redis/call.js';
import { duplicateClient, type RedisClient } from '../redis/client.js';
import {
  FINAL_JOB_STATES,
  type Job,
  JobBoardClosedError,
  JobNotFoundError,
  type JobState,
  JobWaitTimeoutError,
} from './job-board.js';

type Client = RedisClient;
/** The board's bounded way of calling Redis (see src/redis/call.ts). */
type Call = <T>(spec: CallSpec, command: (client: Client) => Promise<T>) => Promise<T>;

/** How often a waiter re-reads its job, in case a notification was lost while the subscriber was down. */
const WAIT_RECHECK_MS = 5_000;
/** Extra time allowed to a BLPOP before its connection is dropped (server unreachable). */
const BLOCK_GRACE_MS = 1_000;

/**
 * The job board's dedicated connections (from `duplicate()`, so the caller's client never blocks):
 * BLPOP on the wake list for `waitForWork`, and one pub/sub subscriber for finished jobs (`wait`).
 * Closing drops them all, which is what interrupts a blocked BLPOP: `close()` never waits on Redis.
 */
export class RedisJobListeners {
  /** One connection per concurrent BLPOP, reused when a wait ends normally. */
  private readonly idle: Client[] = [];
  private readonly busy = new Set<Client>();
  private subscriber: Client | undefined;
  private subscribed: Promise<void> | undefined;
  /** Job id → callbacks of the watchers of that job. */
  private readonly watchers = new Map<string, Set<() => void>>();
  private closed = false;
  /** Rejections of the pending `untilFinished` calls, for `close()`. */
  private readonly pendingWaits = new Set<(error: Error) => void>();

  constructor(
    private readonly redis: Client,
    private readonly wakeKey: string,
    private readonly doneChannel: string,
    /** Bounds the subscription by the board's deadline: a Redis that is down fails `wait()`, not hangs it. */
    private readonly call: Call,
  ) {}

  /** BLPOP the wake list for up to `ms`; true when a wake-up token arrived, false on timeout or abort. */
  async block(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (this.closed || signal?.aborted) return false;
    const connection = this.idle.pop() ?? this.duplicate();
    this.busy.add(connection);
    let interrupted = false;
    let stopWaiting: (woken: false) => void = () => {};
    const interruption = new Promise<false>((resolve) => {
      stopWaiting = resolve;
    });
    const interrupt = (): void => {
      interrupted = true;
      connection.disconnect();
      // A connection disconnected while it waits to reconnect never settles the BLPOP in its offline
      // queue (ioredis clears the reconnect timer and no close event comes): do not wait for it.
      stopWaiting(false);
    };
    signal?.addEventListener('abort', interrupt, { once: true });
    // BLPOP waits in ioredis' offline queue while the server is unreachable: do not outlive the timeout.
    const guard = setTimeout(interrupt, ms + BLOCK_GRACE_MS);
    try {
      const popped = connection.blpop(this.wakeKey, Math.max(ms, 1) / 1000);
      popped.catch(() => {}); // settles after an interruption, if ever: nobody waits for it then
      return (await Promise.race([popped, interruption])) !== null && !interrupted;
    } catch (error) {
      if (interrupted || this.closed) return false;
      throw error;
    } finally {
      clearTimeout(guard);
      signal?.removeEventListener('abort', interrupt);
      this.busy.delete(connection);
      if (interrupted || this.closed) connection.disconnect();
      else this.idle.push(connection);
    }
  }

  /**
   * Call `onFinished` whenever job `id` is reported finished, and after the subscriber reconnects
   * (notifications may have been missed meanwhile). Resolves, once subscribed, to a function that
   * stops watching. Subscribe before reading the job, so a change in between is seen by one or the other.
   */
  async watch(id: string, onFinished: () => void): Promise<() => void> {
    await this.subscribe();
    let set = this.watchers.get(id);
    if (!set) {
      set = new Set();
      this.watchers.set(id, set);
    }
    set.add(onFinished);
    return () => {
      set.delete(onFinished);
      if (set.size === 0 && this.watchers.get(id) === set) this.watchers.delete(id);
    };
  }

  /**
   * Resolve with the job once `read()` shows it COMPLETE, FAILED or CANCELLED: read after subscribing,
   * then again on each notification (one read at a time), with a slow re-read as a safety net.
   */
  untilFinished(
    id: string,
    read: () => Promise<Job | undefined>,
    timeoutMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Job> {
    return new Promise<Job>((resolve, reject) => {
      let settled = false;
      let running = false;
      let again = false;
      let lastState: JobState | undefined;
      let unwatch: (() => void) | undefined;
      // One read at a time; notifications during a read make it read once more.
      const check = (): void => {
        if (settled) return;
        if (running) {
          again = true;
          return;
        }
        running = true;
        read().then(
          (job) => {
            running = false;
            if (!job) return settle(() => reject(new JobNotFoundError(id)));
            lastState = job.state;
            if (FINAL_JOB_STATES.includes(job.state)) return settle(() => resolve(job));
            if (again) {
              again = false;
              check();
            }
          },
          (error: unknown) => settle(() => reject(error)),
        );
      };
      const abort = (): void => settle(() => reject(signal?.reason));
      const closed = (error: Error): void => settle(() => reject(error));
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(
              () => settle(() => reject(new JobWaitTimeoutError(id, timeoutMs, lastState))),
              timeoutMs,
            );
      // A slow safety net for a notification lost between a disconnect and the resubscribe.
      const recheck = setInterval(check, WAIT_RECHECK_MS);
      const settle = (finish: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearInterval(recheck);
        signal?.removeEventListener('abort', abort);
        this.pendingWaits.delete(closed);
        unwatch?.();
        finish();
      };
      signal?.addEventListener('abort', abort, { once: true });
      this.pendingWaits.add(closed);
      // Watch first, then read: a job finishing in between is seen by one or the other.
      this.watch(id, check).then(
        (stop) => {
          unwatch = stop;
          if (settled) stop();
          else check();
        },
        (error: unknown) => settle(() => reject(error)),
      );
    });
  }

  close(): void {
    this.closed = true;
    for (const reject of [...this.pendingWaits]) reject(new JobBoardClosedError('wait'));
    for (const connection of [...this.busy, ...this.idle]) connection.disconnect();
    this.idle.length = 0;
    this.subscriber?.disconnect();
  }

  private subscribe(): Promise<void> {
    if (this.subscribed) return this.subscribed;
    const subscriber = this.duplicate();
    this.subscriber = subscriber;
    subscriber.on('message', (_channel: string, id: string) => {
      for (const notify of this.watchers.get(id) ?? []) notify();
    });
    subscriber.on('ready', () => {
      for (const set of this.watchers.values()) for (const notify of set) notify();
    });
    this.subscribed = this.call({ what: 'subscribe to finished jobs', write: false }, () =>
      subscriber.subscribe(this.doneChannel),
    ).then(
      () => undefined,
      (error: unknown) => {
        this.subscribed = undefined;
        this.subscriber = undefined;
        subscriber.disconnect();
        throw error;
      },
    );
    return this.subscribed;
  }

  private duplicate(): Client {
    return duplicateClient(this.redis);
  }
}

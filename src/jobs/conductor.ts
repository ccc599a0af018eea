import { CancelledError, LeaseLostError, StoreUnavailableError, TaskweaveError } from '../errors.js';
import { ConductorStoppedError, JobLostError, LeaseOverdueError } from './conductor-errors.js';
import {
  type ConductorEventName,
  type ConductorEvents,
  ConductorReporter,
  type ConductorStats,
} from './conductor-events.js';
import {
  type ConductorOptions,
  type ResolvedConductorOptions,
  resolveConductorOptions,
} from './conductor-options.js';
import { type HeldJob, heldJob, RunStopper } from './held-job.js';
import { type Claim, JobBoardClosedError } from './job-board.js';
import type { RunOutcome } from './job-outcome.js';
import { runJob } from './job-run.js';
import { asError, LeaseKeeper } from './lease-keeper.js';
import { type NextClaim, readRefused, settleJob, vanished } from './settle-job.js';

export type { ConductorEvents, ConductorStats } from './conductor-events.js';
export type { ConductorOptions, OrphanPolicy } from './conductor-options.js';

export interface StopOptions {
  /**
   * `true`: stop claiming, let running jobs finish and complete or fail them. `false`: abort the runs
   * at once (they stay stored) and release their claims, so other conductors resume them now.
   * @default false
   */
  drain?: boolean;
  /** With `drain`: suspend runs still going after this long and release their claims. @default no limit */
  timeoutMs?: number;
}

export interface Conductor {
  /** Owner name written on this conductor's claims. */
  readonly id: string;
  /**
   * Check that the board answers, then begin claiming jobs; the conductor works until `stop()`.
   * Rejects (StoreUnavailableError, with the client's error as `cause`) when the board cannot be
   * reached within `unavailableDeadlineMs`; `start()` may then be called again.
   */
  start(): Promise<void>;
  /**
   * Stop claiming; drain or hand over the jobs held. Idempotent. With Redis gone it returns within
   * `unavailableDeadlineMs`: the runs stay stored, and the claims it could not release expire. A drain
   * waits for its runs first (up to its `timeoutMs`); with Redis gone a run stops when its lease runs
   * out, so a drain without `timeoutMs` returns after about `leaseMs` + `unavailableDeadlineMs`.
   */
  stop(options?: StopOptions): Promise<void>;
  on<K extends ConductorEventName>(event: K, listener: (...args: ConductorEvents[K]) => void): this;
  off<K extends ConductorEventName>(event: K, listener: (...args: ConductorEvents[K]) => void): this;
  /** Counters since creation, and the jobs held now. */
  stats(): ConductorStats;
}

/**
 * Create a conductor: it claims jobs from a board with a lease, runs or resumes them on an engine,
 * renews the lease on a heartbeat, and completes, fails or releases each job when its run ends.
 * Board errors never escape: the conductor backs off and tries again (see the `backoff` event).
 *
 * @example
 * const board = redisJobBoard({ redis, prefix: 'tw' });
 * const engine = createEngine({ store: redisStore({ redis, prefix: 'tw' }), flows: [bootServer] });
 * const conductor = createConductor({ board, engine, concurrency: 8, leaseMs: 10_000 });
 * conductor.on('completed', ({ id }) => console.log('done', id));
 * await conductor.start();
 * // on shutdown
 * await conductor.stop({ drain: true });
 */
export function createConductor(options: ConductorOptions): Conductor {
  return new JobConductor(resolveConductorOptions(options));
}

class JobConductor implements Conductor {
  readonly id: string;
  private readonly report = new ConductorReporter();
  private readonly held = new Set<HeldJob>();
  /** The newest claim per job id (an older one may still be settling after its lease ran out). */
  private readonly latest = new Map<string, HeldJob>();
  private readonly keeper: LeaseKeeper;
  private readonly stopper: RunStopper;
  private readonly wakeLoop = new AbortController();
  private started = false;
  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private stopped: Promise<void> | undefined;
  private slotFreed: (() => void) | undefined;

  constructor(private readonly options: ResolvedConductorOptions) {
    this.id = options.id;
    this.stopper = new RunStopper((id, reason) => options.engine.abort(id, reason));
    this.keeper = new LeaseKeeper({
      board: options.board,
      owner: options.id,
      leaseMs: options.leaseMs,
      heartbeatMs: options.heartbeatMs,
      onRenewed: (lease) => this.report.emit('renewed', { id: lease.id, token: lease.token }),
      onRefused: (lease) => void this.onRefused(lease as HeldJob),
      onOverdue: (lease, lateByMs) => this.onOverdue(lease as HeldJob, lateByMs),
      onError: (_lease, error) =>
        this.report.emit('backoff', { error, delayMs: options.heartbeatMs, during: 'renew' }),
    });
  }

  async start(): Promise<void> {
    if (this.stopping) {
      throw new TaskweaveError(
        `Expected a conductor that was not stopped, got \`${this.id}\` stopped. Create a new one.`,
      );
    }
    if (this.started) return;
    this.started = true;
    try {
      await this.reachBoard();
    } catch (error) {
      this.started = false;
      throw error;
    }
    if (this.stopping) return;
    this.loopDone = this.loop();
  }

  /** One read of the board within the deadline: a conductor that cannot reach Redis says so at once. */
  private async reachBoard(): Promise<void> {
    const { board, unavailableDeadlineMs } = this.options;
    const timer = new AbortController();
    const reached = board.counts().then(() => true);
    reached.catch(() => {});
    const outcome = await Promise.race([
      reached,
      sleep(unavailableDeadlineMs, timer.signal).then(() => false),
    ]);
    timer.abort();
    if (outcome) return;
    throw new StoreUnavailableError(
      `Conductor \`${this.id}\` could not reach its job board within ${unavailableDeadlineMs} ms (unavailableDeadlineMs). Check that Redis is running and reachable, then start it again.`,
    );
  }

  stop(options: StopOptions = {}): Promise<void> {
    this.stopped ??= this.boundedShutdown(options);
    return this.stopped;
  }

  /** `shutdown`, but never longer than the deadline: a Redis that is gone must not hold `stop()` up. */
  private async boundedShutdown(options: StopOptions): Promise<void> {
    const done = this.shutdown(options);
    done.catch(() => {});
    const { unavailableDeadlineMs } = this.options;
    // With drain and its own timeout, the deadline counts from the end of that timeout.
    const limit =
      unavailableDeadlineMs + (options.drain ? (options.timeoutMs ?? Number.POSITIVE_INFINITY) : 0);
    if (!Number.isFinite(limit)) return done;
    const timer = new AbortController();
    await Promise.race([done, sleep(limit, timer.signal)]);
    timer.abort();
  }

  on<K extends ConductorEventName>(event: K, listener: (...args: ConductorEvents[K]) => void): this {
    this.report.on(event, listener);
    return this;
  }

  off<K extends ConductorEventName>(event: K, listener: (...args: ConductorEvents[K]) => void): this {
    this.report.off(event, listener);
    return this;
  }

  stats(): ConductorStats {
    return this.report.stats(this.held.size);
  }

  /** Claim while there is room and work; otherwise wait for a free slot or for work, never polling hot. */
  private async loop(): Promise<void> {
    const { board, leaseMs, maxTakeovers, pollMs, concurrency } = this.options;
    let delay = this.options.backoffMs;
    let failing: { since: number; backoffs: number } | undefined;
    while (!this.stopping) {
      try {
        if (this.held.size >= concurrency) {
          await new Promise<void>((resolve) => {
            this.slotFreed = resolve;
          });
          continue;
        }
        const sentAt = performance.now();
        const claim = await board.claim(this.id, leaseMs, { maxTakeovers });
        delay = this.options.backoffMs;
        if (failing) {
          this.report.emit('recovered', { afterMs: Date.now() - failing.since, backoffs: failing.backoffs });
          failing = undefined;
        }
        if (claim && this.stopping) {
          // Stopped while the claim was on its way: give it back untouched.
          await board.release(claim.job.id, claim.token).catch(() => {});
          break;
        }
        if (claim) this.conduct(claim, sentAt + leaseMs);
        else await board.waitForWork(pollMs, this.wakeLoop.signal);
      } catch (error) {
        if (this.stopping || error instanceof JobBoardClosedError) break;
        failing ??= { since: Date.now(), backoffs: 0 };
        failing.backoffs += 1;
        this.report.emit('backoff', { error: asError(error), delayMs: delay, during: 'claim' });
        await sleep(delay, this.wakeLoop.signal);
        delay = Math.min(delay * 2, this.options.maxBackoffMs);
      }
    }
  }

  /** Drive one claimed job from its claim to complete / fail / release. */
  private conduct(claim: Claim, deadline: number): void {
    const { job, token } = claim;
    const held = heldJob(job.id, token, deadline);
    const previous = this.latest.get(job.id);
    this.held.add(held);
    this.latest.set(job.id, held);
    this.keeper.hold(held);
    this.report.emit('claimed', { id: job.id, flow: job.flow, token, takeover: claim.takeover });
    if (claim.takeover) this.report.emit('takeover', { id: job.id, token, takeovers: job.takeovers });
    held.done = this.drive(held, claim, previous);
  }

  private async drive(held: HeldJob, claim: Claim, previous: HeldJob | undefined): Promise<void> {
    const { engine, onOrphan, board, maxAttempts, backoffMs, maxBackoffMs } = this.options;
    let outcome: RunOutcome;
    try {
      // Our own earlier claim of this job (its lease ran out) settles first: one run per id here.
      await previous?.done;
      outcome = { results: await runJob(engine, claim, onOrphan, (run) => this.stopper.attach(held, run)) };
    } catch (error) {
      outcome = { error: asError(error) };
    }
    let next: NextClaim | undefined;
    try {
      const ctx = { board, report: this.report, maxAttempts, backoffMs, maxBackoffMs };
      // The slot this job frees is taken again in the completion's round trip (not while stopping).
      const { leaseMs, maxTakeovers } = this.options;
      const claimNext = this.stopping ? undefined : { owner: this.id, leaseMs, options: { maxTakeovers } };
      next = await settleJob(
        { ...ctx, holds: (h) => this.keeper.holds(h), ...(claimNext ? { next: claimNext } : {}) },
        held,
        outcome,
      );
    } catch {
      // settleJob reports what it can; a held job's promise never rejects (no unhandled rejections)
    } finally {
      this.keeper.drop(held);
      this.stopper.forget(held);
      this.held.delete(held);
      if (this.latest.get(held.id) === held) this.latest.delete(held.id);
    }
    // A job claimed with the completion takes the slot this one freed, unless we stopped meanwhile
    // (then it goes back at once, before stop() returns: this promise is what stop() waits for).
    if (next && !this.stopping) {
      this.conduct(next.claim, next.sentAt + this.options.leaseMs);
      return;
    }
    if (next) await board.release(next.claim.job.id, next.claim.token).catch(() => {});
    this.slotFreed?.();
    this.slotFreed = undefined;
  }

  private async onRefused(held: HeldJob): Promise<void> {
    const read = await readRefused(this.options.board, held.id);
    const job = read?.job;
    if (job?.state === 'CANCELLED') {
      this.stopper.stop(held, { reason: 'cancelled', error: new CancelledError(held.id) });
      return;
    }
    const error = vanished(read)
      ? new JobLostError(held.id)
      : new LeaseLostError(held.id, held.token, job?.token);
    this.stopper.stop(held, { reason: 'refused', error });
    this.report.emit('lost', { id: held.id, token: held.token, reason: 'refused', error });
  }

  private onOverdue(held: HeldJob, lateByMs: number): void {
    const error = new LeaseOverdueError(held.id, lateByMs, this.options.leaseMs);
    this.stopper.stop(held, { reason: 'overdue', error });
    this.report.emit('lost', { id: held.id, token: held.token, reason: 'overdue', error });
  }

  private async shutdown({ drain = false, timeoutMs }: StopOptions): Promise<void> {
    this.stopping = true;
    this.wakeLoop.abort();
    this.slotFreed?.();
    await this.loopDone;
    const settled = () => Promise.all([...this.held].map((held) => held.done));
    if (!drain) {
      for (const held of this.held) {
        this.stopper.stop(held, { reason: 'stop', error: new ConductorStoppedError(held.id, this.id) });
      }
    } else if (timeoutMs !== undefined) {
      const timer = new AbortController();
      const finished = await Promise.race([settled().then(() => true), sleep(timeoutMs, timer.signal)]);
      timer.abort();
      if (finished !== true) {
        for (const held of this.held) {
          this.stopper.stop(held, { reason: 'suspend', error: new ConductorStoppedError(held.id, this.id) });
        }
      }
    }
    await settled();
    this.keeper.stop();
    this.stopper.close();
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

import type { Engine } from '../engine/engine.js';
import { expectCount, expectString, InvalidJobOptionError, type JobBoard } from './job-board.js';

/** What a conductor does with a job whose previous conductor's lease expired. */
export type OrphanPolicy = 'resume' | 'revert';

export interface ConductorOptions {
  /** Where jobs come from. */
  board: JobBoard;
  /** Runs the jobs' flows; it must know (have registered) every flow posted to the board. */
  engine: Engine;
  /** Jobs this conductor runs at once. @default 4 */
  concurrency?: number;
  /** How long a claim lasts without renewal; another conductor may take the job after that. @default 10_000 */
  leaseMs?: number;
  /** How often claims are renewed; must be below `leaseMs`. @default leaseMs / 3 */
  heartbeatMs?: number;
  /** Runs of a job that may end in failure before the job is FAILED. @default 5 */
  maxAttempts?: number;
  /** Takeovers after expired leases before the job is FAILED (a job crashing its conductors). @default 20 */
  maxTakeovers?: number;
  /** `resume` continues an orphaned run from its snapshot; `revert` rolls it back and fails the job. @default 'resume' */
  onOrphan?: OrphanPolicy;
  /** Owner name written on claims. @default the engine's id */
  id?: string;
  /** Longest single wait for work before the loop looks again (waits also end on posts and lease expiries). @default 5_000 */
  pollMs?: number;
  /** Backoff after a board error: first delay, doubled up to `maxBackoffMs`. @default 100 */
  backoffMs?: number;
  /** @default 5_000 */
  maxBackoffMs?: number;
  /**
   * How long `start()` waits to reach the board before it rejects (StoreUnavailableError), and the
   * longest `stop()` waits for the board when Redis is gone (it then returns; what is left of the runs
   * stays stored and their claims expire).
   * @default 30_000
   */
  unavailableDeadlineMs?: number;
}

export type ResolvedConductorOptions = Required<ConductorOptions>;

/** Fill in defaults and check every option, with messages that say what was expected and what was got. */
export function resolveConductorOptions(options: ConductorOptions): ResolvedConductorOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidJobOptionError('options', 'an object', options);
  }
  const { board, engine } = options;
  if (board === null || typeof board !== 'object' || typeof board.claim !== 'function') {
    throw new InvalidJobOptionError('board', 'a job board (e.g. redisJobBoard())', board);
  }
  if (engine === null || typeof engine !== 'object' || typeof engine.resume !== 'function') {
    throw new InvalidJobOptionError('engine', 'an engine from createEngine()', engine);
  }
  if (typeof engine.abort !== 'function') {
    throw new InvalidJobOptionError('engine', 'an engine with abort(id) (taskweave >= 0.1)', engine);
  }
  const leaseMs = options.leaseMs ?? 10_000;
  expectCount('leaseMs', leaseMs, 10);
  const resolved: ResolvedConductorOptions = {
    board,
    engine,
    concurrency: options.concurrency ?? 4,
    leaseMs,
    heartbeatMs: options.heartbeatMs ?? Math.max(1, Math.floor(leaseMs / 3)),
    maxAttempts: options.maxAttempts ?? 5,
    maxTakeovers: options.maxTakeovers ?? 20,
    onOrphan: options.onOrphan ?? 'resume',
    id: options.id ?? engine.id,
    pollMs: options.pollMs ?? 5_000,
    backoffMs: options.backoffMs ?? 100,
    maxBackoffMs: options.maxBackoffMs ?? 5_000,
    unavailableDeadlineMs: options.unavailableDeadlineMs ?? 30_000,
  };
  const { concurrency, heartbeatMs } = resolved;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new InvalidJobOptionError('concurrency', 'an integer from 1 and up', concurrency);
  }
  expectCount('heartbeatMs', heartbeatMs, 1);
  if (heartbeatMs >= leaseMs) {
    throw new InvalidJobOptionError('heartbeatMs', `a number below leaseMs (${leaseMs})`, heartbeatMs);
  }
  expectCount('maxAttempts', resolved.maxAttempts, 1);
  expectCount('maxTakeovers', resolved.maxTakeovers, 0);
  if (resolved.onOrphan !== 'resume' && resolved.onOrphan !== 'revert') {
    throw new InvalidJobOptionError('onOrphan', "'resume' or 'revert'", resolved.onOrphan);
  }
  expectString('id', resolved.id);
  expectCount('pollMs', resolved.pollMs, 1);
  expectCount('backoffMs', resolved.backoffMs, 1);
  expectCount('maxBackoffMs', resolved.maxBackoffMs, resolved.backoffMs);
  expectCount('unavailableDeadlineMs', resolved.unavailableDeadlineMs, 1);
  return resolved;
}

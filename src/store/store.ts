import type { FlowStructure } from '../model/flow-structure.js';
import type { RunStatus } from '../model/run-status.js';
import type { ProgressReport } from './progress.js';
import type { HistoryOptions, NewRunEvent, RunEvent, WatchHistoryOptions } from './run-history.js';

/**
 * The narrow interface every store implements (memory, Redis). A run is stored as small `meta` plus
 * named `parts` (opaque strings the engine produces), so a write carries only the parts that changed.
 *
 * Every write is fenced and versioned: it names the fencing token it holds and the version it writes,
 * and the store applies it atomically only if the token is the run's current one and the version is
 * exactly the stored version + 1.
 */

export {
  FINISHED_STATUSES,
  isFinished,
  RUN_STATUSES,
  type RunStatus,
} from '../model/run-status.js';

export interface RunMeta {
  id: string;
  /** Flow name, as registered with engines. */
  flow: string;
  /** The flow's `version` string. */
  version: string;
  /** Structural hash of the compiled flow. */
  hash: string;
  status: RunStatus;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
  /** Who holds the run now (engine id), informational. */
  owner?: string;
}

export interface StoredRun {
  meta: RunMeta;
  /** Current fencing token: every claim increments it. */
  token: number;
  /** Version of the last write (0 when only created). */
  seq: number;
  parts: Record<string, string>;
}

export interface RunWrite {
  runId: string;
  /** The fencing token the writer holds. */
  token: number;
  /** Must be the stored `seq` + 1. */
  seq: number;
  meta: RunMeta;
  /** Parts added or changed. */
  set: Record<string, string>;
  /** Parts removed. */
  del?: readonly string[];
  /** What this write records, appended to the run's history in the same atomic step. */
  events?: readonly NewRunEvent[];
}

export interface WriteOptions {
  /**
   * The writer let the run go (its engine closed, the run was aborted, or its own deadline passed):
   * stop retrying and waiting. A write already sent may still be applied ("maybe stored").
   */
  signal?: AbortSignal;
  /**
   * Give up (StoreUnavailableError) after this long if the store stays unavailable, when that is sooner
   * than the store's own deadline: an engine's `unavailableDeadlineMs` bounds its store calls.
   */
  deadlineMs?: number;
}

/** A read's limits: the same as a write's. */
export type ReadOptions = WriteOptions;

/** A listed run whose stored data is not a run's: listed, never hidden, with the reason. */
export interface CorruptRun {
  id: string;
  corrupt: string;
}

/** What `store.list()` yields: a run's metadata, or a corrupt run with the reason. */
export type ListedRun = RunMeta | CorruptRun;

export function isCorruptRun(entry: ListedRun): entry is CorruptRun {
  return typeof (entry as CorruptRun).corrupt === 'string';
}

export interface CreateOptions extends WriteOptions {
  /** The run's first history events (its RUNNING status, its first tasks), stored with it. */
  events?: readonly NewRunEvent[];
}

export interface ListRunsOptions {
  status?: RunStatus | readonly RunStatus[];
  flow?: string;
  /** @default 100 */
  limit?: number;
}

export interface PurgeOptions {
  /** Delete finished runs (SUCCESS, REVERTED, FAILURE) last updated more than this long ago. */
  olderThanMs: number;
  /** @default FINISHED_STATUSES */
  status?: readonly RunStatus[];
}

/**
 * A run store (see the top of this file). Unavailability is the store's to handle: the engine makes
 * each write and read once and does not retry one that failed. A store whose backend can be briefly
 * unreachable retries it itself, for at most `options.deadlineMs` (the engine's
 * `unavailableDeadlineMs`) when given, then rejects with `StoreUnavailableError`, and stops at once
 * when `options.signal` aborts. `redisStore` does so with the Redis call policy (src/redis/call.ts);
 * the memory store is never unavailable. A store that ignores `deadlineMs` but honours the signal is
 * let go of a little after the deadline.
 */
export interface Store {
  /**
   * Create a new run owned by `owner`, with fencing token 1 and version 0.
   * Resolves false (and changes nothing) when a run with that id exists.
   */
  create(meta: RunMeta, parts: Record<string, string>, options?: CreateOptions): Promise<boolean>;
  /**
   * Take a run over: increment its fencing token and return it with the stored run.
   * Resolves undefined when there is no such run. Throws `SnapshotCorruptError` for data that is not a run.
   */
  claim(
    runId: string,
    owner: string,
    options?: ReadOptions,
  ): Promise<{ token: number; run: StoredRun } | undefined>;
  /**
   * Apply a write atomically. Throws `LeaseLostError` when `token` is not the current one and
   * `VersionConflictError` when `seq` is not the stored version + 1; nothing is written then.
   * `RunLostError` when the run is no longer stored at all (deleted, or Redis lost its data).
   */
  save(write: RunWrite, options?: WriteOptions): Promise<void>;
  /** Read a run; undefined when absent; `SnapshotCorruptError` for data that is not a run. */
  load(runId: string, options?: ReadOptions): Promise<StoredRun | undefined>;
  /**
   * Runs' metadata, newest first. A run whose stored data is corrupt is listed as `{ id, corrupt }`
   * (the reason), not left out.
   */
  list(options?: ListRunsOptions): Promise<ListedRun[]>;
  /** Delete a run and everything stored for it. Resolves true if it existed. */
  delete(runId: string): Promise<boolean>;
  /** Retention: delete old finished runs; resolves the number deleted. */
  purge(options: PurgeOptions): Promise<number>;
  /** Idempotent; closes only what the store opened itself (and ends its watches). */
  close(): Promise<void>;
  /**
   * A run's history, oldest first (events the writes recorded, see `RunWrite.events`).
   * Resolves undefined when there is no such run. Optional for stores written before history existed.
   */
  history?(runId: string, options?: HistoryOptions): Promise<RunEvent[] | undefined>;
  /**
   * A run's history after `after`, then its events as they are stored, from any process; it never ends
   * by itself (the engine ends it at the run's end): end it with `signal` or by leaving the loop.
   */
  watch?(runId: string, options?: WatchHistoryOptions): AsyncIterable<RunEvent>;
  /** Store a flow's structure under its hash unless one is stored already (the flow catalog). */
  saveFlow?(structure: FlowStructure): Promise<void>;
  /** The structure stored under `hash`, if any. */
  loadFlow?(hash: string, options?: ReadOptions): Promise<FlowStructure | undefined>;
  /** Publish a task's progress to live watchers of other processes; best effort, never stored. */
  publishProgress?(runId: string, report: ProgressReport): void;
  /** Hear the progress published for a run (from any process); the function returned stops listening. */
  listenProgress?(runId: string, listener: (report: ProgressReport) => void): () => void;
}

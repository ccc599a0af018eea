import { InvalidOptionError } from '../errors.js';
import type { TaskState } from '../model/task-states.js';
import { isFinished, RUN_STATUSES, type RunStatus } from './store.js';

/**
 * A run's history: one event per task state change and per run status change, appended by the very
 * write that stores the change (so history never shows what was not stored). Kept per run, capped
 * (`historyLimit`, the oldest events go first), deleted with the run.
 */
export interface RunEvent {
  /** Position in the run's history: 1, 2, 3, … with no gaps (trimming drops only the oldest). */
  seq: number;
  /** When the change happened (epoch ms). */
  at: number;
  /** The task that changed; absent for a run status change. */
  task?: string;
  state: TaskState | RunStatus;
  /** The task's attempt (task events only). */
  attempt?: number;
  /** The failure behind a FAILURE, RETRYING or REVERT_FAILURE task state. */
  error?: { name: string; message: string };
}

/** An event as a writer hands it to the store, which numbers it. */
export type NewRunEvent = Omit<RunEvent, 'seq'>;

/**
 * How many events a run's history keeps by default: enough for a run of a few thousand tasks with
 * reverts and retries; beyond it the oldest are dropped (on Redis a write's events are stored and
 * dropped together, so up to one write's events more may stay).
 */
export const DEFAULT_HISTORY_LIMIT = 10_000;

export interface HistoryOptions {
  /** Only events with a higher `seq` (what a watcher has seen). @default 0 */
  after?: number;
  /** Give up sooner than the store's own deadline (an engine's `unavailableDeadlineMs`). */
  deadlineMs?: number;
}

export interface WatchHistoryOptions extends HistoryOptions {
  /** Stops the watch: the iterator ends, and its connection (Redis) is closed. */
  signal?: AbortSignal;
}

/** Is this event the run reaching a status it does not leave by itself (SUCCESS, REVERTED, FAILURE)? */
export function isRunEnd(event: RunEvent): boolean {
  return event.task === undefined && isFinished(event.state as RunStatus);
}

const RUN_STATUS_SET: ReadonlySet<string> = new Set(RUN_STATUSES);

/** Checks a stored event's shape (a foreign or damaged entry is skipped by readers, not trusted). */
export function toRunEvent(seq: number, json: string): RunEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  return asRunEvent(seq, value);
}

/** `toRunEvent` for a value already parsed (an element of a stored batch). */
export function asRunEvent(seq: number, value: unknown): RunEvent | undefined {
  const e = value as Partial<RunEvent> | null;
  if (!e || typeof e !== 'object' || typeof e.at !== 'number' || typeof e.state !== 'string')
    return undefined;
  if (e.task === undefined && !RUN_STATUS_SET.has(e.state)) return undefined;
  return { seq, ...(e as NewRunEvent) };
}

/** Check a `historyLimit` option. */
export function checkHistoryLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_HISTORY_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new InvalidOptionError('historyLimit', 'an integer from 1 and up', limit);
  }
  return limit;
}

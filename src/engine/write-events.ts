import type { TaskChange } from '../compile/scheduler.js';
import type { RunStatus } from '../model/run-status.js';
import type { NewRunEvent } from '../store/run-history.js';

/** Statuses a run stops in: recorded after the task changes of their write. */
const ENDING: ReadonlySet<string> = new Set<RunStatus>(['SUCCESS', 'REVERTED', 'FAILURE', 'SUSPENDED']);
/** Task states whose record carries the failure behind them (recorded with the event). */
export const FAILED_STATES: ReadonlySet<string> = new Set(['FAILURE', 'RETRYING', 'REVERT_FAILURE']);

/** The history event of one task change of a step (with the error behind a failed state). */
export function taskEvent(change: TaskChange): NewRunEvent {
  const { at } = change;
  const { f } = change.record;
  return f && FAILED_STATES.has(change.state)
    ? {
        at,
        task: change.task,
        state: change.state,
        attempt: change.attempt,
        error: { name: f.name, message: f.message },
      }
    : { at, task: change.task, state: change.state, attempt: change.attempt };
}

/**
 * The events one write appends, in the order a watcher should see them: run statuses before task
 * changes (a watcher learns the run is reverting before it sees tasks revert), except a status the run
 * stops in as this write leaves it: that one comes last, so a history ends with it and a watch that
 * stops there has seen every change. A status placed before its write's task changes takes the time of
 * the first one if that is earlier (times never go back along a history). Used by the in-process writer
 * and by the distributed step alike.
 */
export function writeEvents(statuses: NewRunEvent[], tasks: NewRunEvent[]): NewRunEvent[] {
  if (statuses.length === 0) return tasks;
  const last = statuses.at(-1)!;
  const stops = ENDING.has(last.state);
  const firstTask = tasks[0]?.at ?? Number.POSITIVE_INFINITY;
  const events: NewRunEvent[] = [];
  const leading = stops ? statuses.length - 1 : statuses.length;
  for (let i = 0; i < leading; i++) {
    const e = statuses[i]!;
    events.push(e.at > firstTask ? { ...e, at: firstTask } : e);
  }
  for (const e of tasks) events.push(e);
  if (stops) events.push(last);
  return events;
}

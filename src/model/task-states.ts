import { allowedMoves } from './transition-table.js';

/**
 * Task states and their allowed transitions, as data (like TaskFlow's states.py). The scheduler moves a
 * task's record only along these transitions (it checks each one); the machine's lanes show the busy
 * states (RUNNING, RETRYING, REVERTING) as states that invoke the task's actors.
 */
export type TaskState =
  | 'PENDING'
  | 'RUNNING'
  | 'SUCCESS'
  | 'FAILURE'
  | 'RETRYING'
  | 'REVERTING'
  | 'REVERTED'
  | 'REVERT_FAILURE'
  | 'IGNORED';

export const TASK_STATES: readonly TaskState[] = [
  'PENDING',
  'RUNNING',
  'SUCCESS',
  'FAILURE',
  'RETRYING',
  'REVERTING',
  'REVERTED',
  'REVERT_FAILURE',
  'IGNORED',
];

export interface TaskTransition {
  from: TaskState;
  to: TaskState;
  /** What moves the task: a scheduler decision (`START`, `IGNORE`, `ABORT`, `REVERT`, `RESET`; only the busy ones move its lane) or its actor (`done`, `error`, `slept`). */
  on: 'START' | 'IGNORE' | 'ABORT' | 'REVERT' | 'RESET' | 'done' | 'error' | 'error-retry' | 'slept';
  why: string;
}

export const TASK_TRANSITIONS: readonly TaskTransition[] = [
  {
    from: 'PENDING',
    to: 'RUNNING',
    on: 'START',
    why: 'every dependency succeeded and a concurrency slot is free',
  },
  { from: 'PENDING', to: 'IGNORED', on: 'IGNORE', why: 'a decider said no, or what it needs was ignored' },
  { from: 'RUNNING', to: 'SUCCESS', on: 'done', why: 'execute resolved and its result was stored' },
  {
    from: 'RUNNING',
    to: 'RETRYING',
    on: 'error-retry',
    why: 'execute threw and attempts are left: wait for the backoff',
  },
  { from: 'RUNNING', to: 'FAILURE', on: 'error', why: 'execute threw (or timed out) with no attempts left' },
  { from: 'RUNNING', to: 'FAILURE', on: 'ABORT', why: 'the run was cancelled: the signal is aborted' },
  { from: 'RETRYING', to: 'RUNNING', on: 'slept', why: 'the backoff deadline passed: next attempt' },
  {
    from: 'RETRYING',
    to: 'FAILURE',
    on: 'ABORT',
    why: 'the run is reverting or cancelled: no further attempts',
  },
  {
    from: 'SUCCESS',
    to: 'REVERTING',
    on: 'REVERT',
    why: 'the run (or a retry scope) is reverting and every dependent is undone',
  },
  { from: 'FAILURE', to: 'REVERTING', on: 'REVERT', why: 'a failed task is reverted too, with its error' },
  { from: 'REVERTING', to: 'REVERTED', on: 'done', why: 'revert resolved' },
  {
    from: 'REVERTING',
    to: 'REVERT_FAILURE',
    on: 'error',
    why: 'revert threw: its dependencies are left as they are',
  },
  {
    from: 'REVERT_FAILURE',
    to: 'REVERTING',
    on: 'REVERT',
    why: 'an operator rolls the run back again (engine.revert): the revert that threw is tried again',
  },
  { from: 'REVERTED', to: 'PENDING', on: 'RESET', why: 'a retry controller runs its scope again' },
  { from: 'IGNORED', to: 'PENDING', on: 'RESET', why: 'a retry controller runs its scope again' },
  {
    from: 'SUCCESS',
    to: 'PENDING',
    on: 'RESET',
    why: 'a retry scope with nothing to revert for this task runs again',
  },
];

/** States that hold a concurrency slot. */
export const BUSY_STATES: ReadonlySet<TaskState> = new Set(['RUNNING', 'RETRYING', 'REVERTING']);
/** States in which a task has had an effect that a revert must undo. */
export const REVERTIBLE_STATES: ReadonlySet<TaskState> = new Set(['SUCCESS', 'FAILURE']);
/** States of a dependent that let its dependency be reverted. */
export const UNDONE_STATES: ReadonlySet<TaskState> = new Set(['PENDING', 'IGNORED', 'REVERTED']);

const allowed = allowedMoves(TASK_TRANSITIONS);

/** Whether the table allows a task to move from one state to another. */
export function isAllowedTransition(from: TaskState, to: TaskState): boolean {
  return allowed(from, to);
}

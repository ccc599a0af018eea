/**
 * Internal names that more than one room spells: the ids of the actors a task state invokes, the
 * XState events their outcomes arrive as, and the stored part that holds a task's record. Stored
 * snapshots contain these names, so changing one is a change of the stored format.
 */

/** What a busy task state invokes: the actor's source name (`setup({ actors })`) and its id prefix. */
export const TASK_ACTORS = {
  RUNNING: { src: 'execute', prefix: 'execute' },
  RETRYING: { src: 'sleepUntil', prefix: 'sleep' },
  REVERTING: { src: 'revert', prefix: 'revert' },
} as const;

export type TaskActorKind = (typeof TASK_ACTORS)[keyof typeof TASK_ACTORS]['prefix'];

/** The id of a task's invoked actor: `execute:<task>`, `sleep:<task>`, `revert:<task>`. */
export const taskActorId = (kind: TaskActorKind, task: string): string => `${kind}:${task}`;

/** A task actor's id split into its kind and task (`sleep:attach` → sleep, attach); undefined for other ids. */
export function parseTaskActorId(id: string): { kind: TaskActorKind; task: string } | undefined {
  const at = id.indexOf(':');
  const kind = id.slice(0, at);
  if (at < 0 || !Object.values(TASK_ACTORS).some((actor) => actor.prefix === kind)) return undefined;
  return { kind: kind as TaskActorKind, task: id.slice(at + 1) };
}

/** The event XState sends the run when that actor resolves. */
export const doneEventOf = (actorId: string): string => `xstate.done.actor.${actorId}`;

/** The event XState sends the run when that actor rejects. */
export const errorEventOf = (actorId: string): string => `xstate.error.actor.${actorId}`;

const OUTCOME = /^xstate\.(?:done|error)\.actor\.(.+)$/;

/** The actor whose outcome (done or error) an event carries, or undefined for any other event. */
export const actorOfOutcome = (type: string): string | undefined => OUTCOME.exec(type)?.[1];

/** A task's record is stored as its own part, `t:<task>`. */
const TASK_PART_PREFIX = 't:';

export const taskPart = (task: string): string => `${TASK_PART_PREFIX}${task}`;

/** The task a stored part belongs to, or undefined for the run's other parts. */
export const taskOfPart = (part: string): string | undefined =>
  part.startsWith(TASK_PART_PREFIX) ? part.slice(TASK_PART_PREFIX.length) : undefined;

/**
 * The actor a task's busy state invokes is stored as its own part, `c:<task>`: its persisted entry with
 * its id, or `null` while the task has none. Written with the task's record, so a write carries the
 * actors of the tasks it changes, not every running task's.
 */
const CHILD_PART_PREFIX = 'c:';

export const childPart = (task: string): string => `${CHILD_PART_PREFIX}${task}`;

/**
 * Wide flows (see compile.ts, `RunShape`): the run spawns, per busy task, a small machine holding that
 * busy state, which invokes the task's actor. Its source name, by busy state; its id is the actor id
 * above (`execute:<task>`, ...), so the run sees the same outcome events in both shapes.
 */
export const TASK_MACHINE_SRC = {
  RUNNING: 'task.execute',
  RETRYING: 'task.sleepUntil',
  REVERTING: 'task.revert',
} as const;

import { type LifecycleSnapshot, lifecycle, stateMeta } from './lifecycle.js';
import type { LifecycleDefinition, LifecycleTable } from './table.js';

const RESET = 'an admin resets a server after checking it by hand (nova reset-state)';

/**
 * A Nova server. States are `vm_state`s (upper case) while stable, and the `task_state` of the action
 * in progress otherwise; each state's meta gives both, as Nova reports them. Resize is three actions
 * (prep, migrate, finish) like Nova's task states; a failure before anything moved goes back to ACTIVE.
 */
export const serverLifecycle = {
  id: 'server',
  initial: 'INIT',
  states: {
    INIT: {
      description: 'requested, nothing built yet',
      meta: { vm_state: null, task_state: null },
      on: { CREATE: ['BUILDING', 'a user boots a server'] },
    },
    BUILDING: {
      description: 'scheduling and spawning on a host',
      meta: { vm_state: 'building', task_state: 'spawning' },
      action: 'create',
      done: ['ACTIVE', 'the server booted'],
      error: ['ERROR', 'spawn failed; the server may be half-built, so an admin must look'],
      on: { DELETE: ['DELETING', 'a server may be deleted while it builds; the spawn is aborted'] },
    },
    ACTIVE: {
      description: 'running',
      meta: { vm_state: 'active', task_state: null },
      on: {
        STOP: ['POWERING_OFF', 'a user stops the server'],
        PAUSE: ['PAUSING', 'a user pauses the server in memory'],
        RESIZE: ['RESIZE_PREP', 'a user resizes to another flavor'],
        DELETE: ['DELETING', 'a user deletes the server'],
      },
    },
    POWERING_OFF: {
      description: 'shutting the guest down',
      meta: { vm_state: 'active', task_state: 'powering-off' },
      action: 'stop',
      done: ['STOPPED', 'the guest is off'],
      error: ['ACTIVE', 'power-off failed; the server is still running'],
    },
    STOPPED: {
      description: 'powered off, disk kept',
      meta: { vm_state: 'stopped', task_state: null },
      on: {
        START: ['POWERING_ON', 'a user starts the server'],
        DELETE: ['DELETING', 'a user deletes the server'],
      },
    },
    POWERING_ON: {
      description: 'booting the guest',
      meta: { vm_state: 'stopped', task_state: 'powering-on' },
      action: 'start',
      done: ['ACTIVE', 'the guest is running'],
      error: ['STOPPED', 'power-on failed; the server is still off'],
    },
    PAUSING: {
      description: 'freezing the guest in memory',
      meta: { vm_state: 'active', task_state: 'pausing' },
      action: 'pause',
      done: ['PAUSED', 'the guest is frozen'],
      error: ['ACTIVE', 'pause failed; the guest still runs'],
    },
    PAUSED: {
      description: 'frozen in memory',
      meta: { vm_state: 'paused', task_state: null },
      on: {
        UNPAUSE: ['UNPAUSING', 'a user unpauses the server'],
        DELETE: ['DELETING', 'a user deletes the server'],
      },
    },
    UNPAUSING: {
      description: 'thawing the guest',
      meta: { vm_state: 'paused', task_state: 'unpausing' },
      action: 'unpause',
      done: ['ACTIVE', 'the guest runs again'],
      error: ['PAUSED', 'unpause failed; the guest is still frozen'],
    },
    RESIZE_PREP: {
      description: 'claiming resources for the new flavor',
      meta: { vm_state: 'active', task_state: 'resize_prep' },
      action: 'resize_prep',
      done: ['RESIZE_MIGRATING', 'a host has room for the new flavor'],
      error: ['ACTIVE', 'no host or quota for the new flavor; nothing moved'],
    },
    RESIZE_MIGRATING: {
      description: 'copying disks to the destination',
      meta: { vm_state: 'active', task_state: 'resize_migrating' },
      action: 'resize_migrate',
      done: ['RESIZE_FINISH', 'disks copied'],
      error: ['ERROR', 'migration failed halfway; an admin must look'],
    },
    RESIZE_FINISH: {
      description: 'booting with the new flavor',
      meta: { vm_state: 'active', task_state: 'resize_finish' },
      action: 'resize_finish',
      done: ['RESIZED', 'running with the new flavor, old one kept for revert'],
      error: ['ERROR', 'could not boot with the new flavor; an admin must look'],
    },
    RESIZED: {
      description: 'running resized, waiting for the user to verify',
      meta: { vm_state: 'resized', task_state: null },
      on: {
        CONFIRM_RESIZE: ['RESIZE_CONFIRMING', 'the user keeps the new flavor'],
        REVERT_RESIZE: ['RESIZE_REVERTING', 'the user goes back to the old flavor'],
        DELETE: ['DELETING', 'a user deletes the server'],
      },
    },
    RESIZE_CONFIRMING: {
      description: 'freeing the source host',
      meta: { vm_state: 'resized', task_state: 'resize_confirming' },
      action: 'confirm_resize',
      done: ['ACTIVE', 'the new flavor is final'],
      error: ['ERROR', 'the source could not be cleaned up; an admin must look'],
    },
    RESIZE_REVERTING: {
      description: 'moving back to the old flavor',
      meta: { vm_state: 'resized', task_state: 'resize_reverting' },
      action: 'revert_resize',
      done: ['ACTIVE', 'back on the old flavor'],
      error: ['ERROR', 'revert failed halfway; an admin must look'],
    },
    ERROR: {
      description: 'broken; only an admin reset or a delete helps',
      meta: { vm_state: 'error', task_state: null },
      on: {
        RESET_STATE: [
          ['ACTIVE', `${RESET}: it runs`],
          ['STOPPED', `${RESET}: it is off`],
        ],
        DELETE: ['DELETING', 'a user deletes the broken server'],
      },
    },
    DELETING: {
      description: 'tearing the server down',
      // vm_state stays what it was (see serverStatus).
      meta: { task_state: 'deleting' },
      action: 'delete',
      done: ['DELETED', 'the server is gone'],
      error: ['ERROR', 'delete failed; resources may be left behind'],
    },
    DELETED: { description: 'gone', meta: { vm_state: 'deleted', task_state: null }, final: true },
  },
} as const satisfies LifecycleDefinition;

export type ServerState = keyof typeof serverLifecycle.states;

/** @example createActor(serverMachine, { input: { resourceId: 'srv-1' } }) */
export const serverMachine = lifecycle(serverLifecycle);

/**
 * Nova's pair for a server snapshot. While deleting, `vm_state` is that of the state the delete was
 * asked in, as Nova leaves it.
 *
 * @example serverStatus(actor.getSnapshot()) // { vm_state: 'active', task_state: 'powering-off' }
 */
export function serverStatus(snapshot: LifecycleSnapshot): {
  vm_state: string | null;
  task_state: string | null;
} {
  const meta = stateMeta(snapshot);
  const from = (serverLifecycle.states as LifecycleTable)[snapshot.context.from];
  const vmState = 'vm_state' in meta ? meta.vm_state : from?.meta?.vm_state;
  return { vm_state: vmState ?? null, task_state: meta.task_state ?? null };
}

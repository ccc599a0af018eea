import type { AnyMachineSnapshot } from 'xstate';
import { lifecycle, stateMeta } from './lifecycle.js';
import type { LifecycleDefinition, StateOf, Transition } from './table.js';

/** An operation's outcome that goes back to the state it started in (Nova's `@reverts_task_state`). */
const backTo = (states: readonly string[], why: string): Transition[] =>
  states.map((state) => [state, `${why}: back to ${state.toLowerCase()}`, { when: { from: state } }]);

const HARD = { when: { field: 'hard', is: true } } as const;
const HARD_REBOOT =
  "a hard reboot (hard: true, Nova's type HARD) power-cycles the server; Nova allows it here";
/** Where vm_state is `stopped`, Nova keeps the server off after a rebuild or resize (`old_vm_state`). */
const ACTIVE_OR_STOPPED = (why: string, fact: 'from' | 'old_vm_state'): Transition[] => [
  [
    'STOPPED',
    `${why}; it was stopped, so it stays off`,
    { when: fact === 'from' ? { from: 'STOPPED' } : { fact: 'old_vm_state', is: 'STOPPED' } },
  ],
  ['ACTIVE', `${why}; it runs`],
];
const NOT_RUNNING = 'Nova sets ERROR when the guest is not running after a failed reboot';

/**
 * A Nova server (`nova/compute/vm_states.py`, `task_states.py`, `compute/api.py`'s
 * `check_instance_state`). Stable states are `vm_state`s, in-progress ones `task_state`s; each state's
 * meta gives the pair Nova reports (`serverStatus`), and a task keeps the `vm_state` it started in.
 * Simplified: BUILDING is one task (Nova: scheduling → networking → block_device_mapping → spawning),
 * resize has no RESIZE_MIGRATED pause, a snapshot is one IMAGE_SNAPSHOT task (Nova's pending/uploading
 * steps) and SOFT_DELETE is its own event (Nova's DELETE with `reclaim_instance_interval` > 0).
 */
export const serverLifecycle = {
  id: 'server',
  initial: 'INIT',
  facts: {
    /** Where a resize or migration started (Nova's `old_vm_state` in system_metadata). */
    old_vm_state: null,
  },
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
    },
    ACTIVE: {
      description: 'running',
      meta: { vm_state: 'active', task_state: null },
      on: {
        STOP: ['POWERING_OFF', 'a user stops the server'],
        REBOOT: [
          ['REBOOTING_HARD', HARD_REBOOT, HARD],
          ['REBOOTING', 'a user reboots the guest (type SOFT): only from active, with no task'],
        ],
        PAUSE: ['PAUSING', 'a user pauses the server in memory'],
        SUSPEND: ['SUSPENDING', 'a user suspends the server to disk'],
        RESCUE: ['RESCUING', 'a user boots a rescue image'],
        REBUILD: ['REBUILDING', 'a user rebuilds from an image'],
        EVACUATE: ['REBUILDING', 'an admin rebuilds it on another host (its host is down)'],
        RESIZE: [
          'RESIZE_PREP',
          'a user resizes to another flavor',
          { set: { old_vm_state: { from: true } } },
        ],
        MIGRATE: [
          'RESIZE_PREP',
          'an admin cold-migrates it (a resize to the same flavor)',
          { set: { old_vm_state: { from: true } } },
        ],
        LIVE_MIGRATE: ['MIGRATING', 'an admin live-migrates it to another host'],
        SNAPSHOT: ['IMAGE_SNAPSHOT', 'a user snapshots it to an image'],
        SHELVE: ['SHELVING', 'a user shelves it'],
      },
    },
    POWERING_OFF: {
      description: 'shutting the guest down',
      meta: { task_state: 'powering-off' },
      action: 'stop',
      done: ['STOPPED', 'the guest is off'],
      error: backTo(['ACTIVE', 'ERROR'], 'power-off failed'),
    },
    STOPPED: {
      description: 'powered off, disk kept',
      meta: { vm_state: 'stopped', task_state: null },
      on: {
        START: ['POWERING_ON', 'a user starts the server'],
        REBOOT: [['REBOOTING_HARD', HARD_REBOOT, HARD]],
        RESCUE: ['RESCUING', 'a user boots a rescue image'],
        REBUILD: ['REBUILDING', 'a user rebuilds from an image'],
        EVACUATE: ['REBUILDING', 'an admin rebuilds it on another host (its host is down)'],
        RESIZE: [
          'RESIZE_PREP',
          'a user resizes to another flavor',
          { set: { old_vm_state: { from: true } } },
        ],
        MIGRATE: ['RESIZE_PREP', 'an admin cold-migrates it', { set: { old_vm_state: { from: true } } }],
        SNAPSHOT: ['IMAGE_SNAPSHOT', 'a user snapshots it to an image'],
        SHELVE: ['SHELVING', 'a user shelves it'],
      },
    },
    POWERING_ON: {
      description: 'booting the guest',
      meta: { task_state: 'powering-on' },
      action: 'start',
      done: ['ACTIVE', 'the guest is running'],
      error: ['STOPPED', 'power-on failed; the server is still off'],
    },
    REBOOTING: {
      description: 'rebooting the guest OS',
      meta: { task_state: 'rebooting' },
      action: 'reboot',
      done: ['ACTIVE', 'the guest came back'],
      error: [
        ['ERROR', NOT_RUNNING, { when: { failed: 'InstanceNotRunning' } }],
        ['ACTIVE', 'reboot failed but the guest still runs: Nova keeps it active'],
      ],
    },
    REBOOTING_HARD: {
      description: 'power-cycling the server',
      meta: { task_state: 'rebooting_hard' },
      action: 'reboot_hard',
      done: ['ACTIVE', 'the guest runs after the power cycle'],
      error: [
        ['ERROR', NOT_RUNNING, { when: { failed: 'InstanceNotRunning' } }],
        ['ACTIVE', 'hard reboot failed but the guest still runs: Nova keeps it active'],
      ],
    },
    PAUSING: {
      description: 'freezing the guest in memory',
      meta: { task_state: 'pausing' },
      action: 'pause',
      done: ['PAUSED', 'the guest is frozen'],
      error: ['ACTIVE', 'pause failed; the guest still runs'],
    },
    PAUSED: {
      description: 'frozen in memory',
      meta: { vm_state: 'paused', task_state: null },
      on: {
        UNPAUSE: ['UNPAUSING', 'a user unpauses the server'],
        REBOOT: [['REBOOTING_HARD', HARD_REBOOT, HARD]],
        LIVE_MIGRATE: ['MIGRATING', 'an admin live-migrates it while paused'],
        SNAPSHOT: ['IMAGE_SNAPSHOT', 'a user snapshots it to an image'],
        SHELVE: ['SHELVING', 'a user shelves it'],
      },
    },
    UNPAUSING: {
      description: 'thawing the guest',
      meta: { task_state: 'unpausing' },
      action: 'unpause',
      done: ['ACTIVE', 'the guest runs again'],
      error: ['PAUSED', 'unpause failed; the guest is still frozen'],
    },
    SUSPENDING: {
      description: 'saving the guest’s memory to disk',
      meta: { task_state: 'suspending' },
      action: 'suspend',
      done: ['SUSPENDED', 'the guest is saved and stopped'],
      error: ['ACTIVE', 'suspend failed; the guest still runs'],
    },
    SUSPENDED: {
      description: 'memory saved to disk, not running',
      meta: { vm_state: 'suspended', task_state: null },
      on: {
        RESUME: ['RESUMING', 'a user resumes the server'],
        REBOOT: [['REBOOTING_HARD', HARD_REBOOT, HARD]],
        SNAPSHOT: ['IMAGE_SNAPSHOT', 'a user snapshots it to an image'],
        SHELVE: ['SHELVING', 'a user shelves it'],
      },
    },
    RESUMING: {
      description: 'restoring the guest’s memory',
      meta: { task_state: 'resuming' },
      action: 'resume',
      done: ['ACTIVE', 'the guest runs again'],
      error: ['SUSPENDED', 'resume failed; the guest is still suspended'],
    },
    RESCUING: {
      description: 'booting the rescue image with the server’s disk attached',
      meta: { task_state: 'rescuing' },
      action: 'rescue',
      done: ['RESCUED', 'the rescue image runs'],
      error: backTo(['ACTIVE', 'STOPPED', 'ERROR'], 'rescue failed (InstanceNotRescuable)'),
    },
    RESCUED: {
      description: 'running the rescue image',
      meta: { vm_state: 'rescued', task_state: null },
      on: { UNRESCUE: ['UNRESCUING', 'a user ends the rescue'] },
    },
    UNRESCUING: {
      description: 'booting the server’s own disk again',
      meta: { task_state: 'unrescuing' },
      action: 'unrescue',
      done: ['ACTIVE', 'the server runs from its own disk'],
      error: ['RESCUED', 'unrescue failed; the rescue image still runs'],
    },
    REBUILDING: {
      description: 're-imaging the server (rebuild), here or on another host (evacuate)',
      meta: { task_state: 'rebuilding' },
      action: 'rebuild',
      done: ACTIVE_OR_STOPPED('rebuilt', 'from'),
      error: ['ERROR', 'rebuild failed; the disk may be half-written, so an admin must look'],
    },
    RESIZE_PREP: {
      description: 'claiming a host for the new flavor',
      meta: { task_state: 'resize_prep' },
      action: 'resize_prep',
      done: ['RESIZE_MIGRATING', 'a host has room for the new flavor'],
      error: backTo(['ACTIVE', 'STOPPED'], 'no host or quota for it; nothing moved'),
    },
    RESIZE_MIGRATING: {
      description: 'copying disks to the destination',
      meta: { task_state: 'resize_migrating' },
      action: 'resize_migrate',
      done: ['RESIZE_FINISH', 'disks copied'],
      error: ['ERROR', 'migration failed halfway; an admin must look'],
    },
    RESIZE_FINISH: {
      description: 'starting on the destination with the new flavor',
      meta: { task_state: 'resize_finish' },
      action: 'resize_finish',
      done: ['RESIZED', 'on the new host and flavor, the old ones kept for a revert'],
      error: ['ERROR', 'could not start on the destination; an admin must look'],
    },
    RESIZED: {
      description: 'resized or migrated, waiting for the user to confirm',
      meta: { vm_state: 'resized', task_state: null },
      on: {
        CONFIRM_RESIZE: ['RESIZE_CONFIRMING', 'the user keeps the new flavor or host'],
        REVERT_RESIZE: ['RESIZE_REVERTING', 'the user goes back to the old flavor and host'],
      },
    },
    RESIZE_CONFIRMING: {
      description: 'freeing the source host',
      meta: { task_state: 'resize_confirming' },
      action: 'confirm_resize',
      done: ACTIVE_OR_STOPPED('the resize is final', 'old_vm_state'),
      error: ['ERROR', 'the source could not be cleaned up; an admin must look'],
    },
    RESIZE_REVERTING: {
      description: 'moving back to the old flavor and host',
      meta: { task_state: 'resize_reverting' },
      action: 'revert_resize',
      done: ACTIVE_OR_STOPPED('back on the old flavor', 'old_vm_state'),
      error: ['ERROR', 'revert failed halfway; an admin must look'],
    },
    MIGRATING: {
      description: 'live-migrating to another host while it runs',
      meta: { task_state: 'migrating' },
      action: 'live_migrate',
      done: backTo(['ACTIVE', 'PAUSED'], 'moved to the new host'),
      error: backTo(['ACTIVE', 'PAUSED'], 'live migration failed and was rolled back on the source'),
      on: {
        LIVE_MIGRATE_ABORT: backTo(['ACTIVE', 'PAUSED'], 'an admin aborts the live migration'),
      },
    },
    IMAGE_SNAPSHOT: {
      description: 'snapshotting the disk to an image',
      meta: { task_state: 'image_snapshot' },
      action: 'snapshot',
      done: backTo(['ACTIVE', 'STOPPED', 'PAUSED', 'SUSPENDED'], 'the image is uploaded'),
      error: backTo(['ACTIVE', 'STOPPED', 'PAUSED', 'SUSPENDED'], 'snapshot failed; the server is untouched'),
    },
    SHELVING: {
      description: 'stopping it and snapshotting its disk',
      meta: { task_state: 'shelving' },
      action: 'shelve',
      done: [
        [
          'SHELVING_OFFLOADING',
          "the shelve reports offload: true (shelved_offload_time is 0, Nova's default): offloaded at once",
          { when: { field: 'offload', is: true } },
        ],
        ['SHELVED', 'shelved; it keeps its host until shelved_offload_time passes'],
      ],
      error: backTo(['ACTIVE', 'STOPPED', 'PAUSED', 'SUSPENDED'], 'shelve failed'),
    },
    SHELVED: {
      description: 'stopped with an image, still on its host',
      meta: { vm_state: 'shelved', task_state: null },
      on: {
        SHELVE_OFFLOAD: ['SHELVING_OFFLOADING', 'shelved_offload_time passed, or a user offloads it'],
        UNSHELVE: ['UNSHELVING', 'a user unshelves it'],
      },
    },
    SHELVING_OFFLOADING: {
      description: 'freeing its host',
      meta: { task_state: 'shelving_offloading' },
      action: 'shelve_offload',
      done: ['SHELVED_OFFLOADED', 'it holds no host any more'],
      error: ['SHELVED', 'offload failed; it is still on its host'],
    },
    SHELVED_OFFLOADED: {
      description: 'only its image is left',
      meta: { vm_state: 'shelved_offloaded', task_state: null },
      on: { UNSHELVE: ['UNSHELVING', 'a user unshelves it onto a host'] },
    },
    UNSHELVING: {
      description: 'booting it from its shelved image',
      meta: { task_state: 'unshelving' },
      action: 'unshelve',
      done: ['ACTIVE', 'it runs again'],
      error: backTo(['SHELVED', 'SHELVED_OFFLOADED'], 'unshelve failed'),
    },
    SOFT_DELETING: {
      description: 'powering it off for a delayed delete',
      meta: { task_state: 'soft-deleting' },
      action: 'soft_delete',
      done: ['SOFT_DELETED', 'it waits for reclaim_instance_interval'],
      error: ['ERROR', 'soft delete failed; an admin must look'],
    },
    SOFT_DELETED: {
      description: 'deleted but reclaimable until reclaim_instance_interval passes',
      meta: { vm_state: 'soft-delete', task_state: null },
      on: {
        RESTORE: ['RESTORING', 'a user restores it before it is reclaimed'],
        FORCE_DELETE: ['DELETING', 'a user deletes it now (or the reclaim interval passed)'],
      },
    },
    RESTORING: {
      description: 'powering it back on',
      meta: { task_state: 'restoring' },
      action: 'restore',
      done: ['ACTIVE', 'it runs again'],
      error: ['SOFT_DELETED', 'restore failed; it is still soft-deleted'],
    },
    ERROR: {
      description: 'broken: reset, delete, hard reboot, rebuild, evacuate, stop or rescue may help',
      meta: { vm_state: 'error', task_state: null },
      on: {
        STOP: ['POWERING_OFF', 'a user stops the broken server (Nova allows stop from error)'],
        REBOOT: [['REBOOTING_HARD', HARD_REBOOT, HARD]],
        REBUILD: ['REBUILDING', 'a user rebuilds the broken server from an image'],
        EVACUATE: ['REBUILDING', 'an admin rebuilds it on another host (its host is down)'],
        RESCUE: ['RESCUING', 'a user boots a rescue image to repair it'],
      },
    },
    DELETING: {
      description: 'tearing the server down',
      meta: { task_state: 'deleting' },
      action: 'delete',
      done: ['DELETED', 'the server is gone'],
      error: ['ERROR', 'delete failed; resources may be left behind'],
    },
    DELETED: { description: 'gone', meta: { vm_state: 'deleted', task_state: null }, final: true },
  },
  common: {
    DELETE: {
      from: 'any',
      except: ['INIT'],
      // From DELETING too: a second delete restarts a delete that hangs (Nova accepts any task_state).
      to: ['DELETING', 'Nova deletes a server in any vm_state and task_state; what runs is cancelled first'],
    },
    RESET_STATE: {
      from: 'any',
      except: ['INIT'],
      to: [
        [
          'ACTIVE',
          'an admin resets the server to active from anywhere (nova reset-state --active); the task is cleared',
        ],
        [
          'ERROR',
          'an admin resets the server to error from anywhere (nova reset-state); the task is cleared',
        ],
      ],
    },
    SOFT_DELETE: {
      from: 'any',
      except: ['INIT', 'BUILDING', 'DELETING', 'SOFT_DELETING', 'SOFT_DELETED', 'RESTORING'],
      to: [
        'SOFT_DELETING',
        'a user deletes it while reclaim_instance_interval > 0: it can be restored for a while',
      ],
    },
    REBOOT: {
      // REBOOTING_HARD too: a hard reboot restarts one that hangs.
      from: ['REBOOTING', 'REBOOTING_HARD', 'PAUSING', 'UNPAUSING', 'SUSPENDING', 'RESUMING'],
      to: [['REBOOTING_HARD', `${HARD_REBOOT} (task_states.ALLOW_REBOOT)`, HARD]],
    },
  },
} as const satisfies LifecycleDefinition;

export type ServerState = StateOf<typeof serverLifecycle>;

/** @example createActor(serverMachine, { input: { resourceId: 'srv-1' } }) */
export const serverMachine = lifecycle(serverLifecycle);

/**
 * Nova's `vm_state`/`task_state` pair for a snapshot of the server machine or of any machine built
 * from a table with those labels in its states' meta (a user's extended table too): a task keeps the
 * `vm_state` it started in, as Nova does (`context.labels`).
 *
 * @example serverStatus(actor.getSnapshot()) // { vm_state: 'active', task_state: 'powering-off' }
 */
export function serverStatus(snapshot: AnyMachineSnapshot): {
  vm_state: string | null;
  task_state: string | null;
} {
  const labels =
    (snapshot.context as { labels?: Record<string, string | null> }).labels ?? stateMeta(snapshot);
  return { vm_state: labels.vm_state ?? null, task_state: labels.task_state ?? null };
}

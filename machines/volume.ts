import type { AnyMachineSnapshot } from 'xstate';
import { lifecycle, stateMeta } from './lifecycle.js';
import type { LifecycleDefinition, StateOf, Transition } from './table.js';

/** Back to the status the operation started in (Cinder's `previous_status`). */
const backTo = (why: string, states: readonly string[] = ['available', 'in-use']): Transition[] =>
  states.map((state) => [state, `${why}: back to ${state}`, { when: { from: state } }]);

const DETACHED = { when: { fact: 'attachments', atMost: 0 } } as const;
const MULTIATTACH = { when: { fact: 'multiattach', is: true } } as const;

/**
 * A Cinder volume (`cinder/objects/fields.py` VolumeStatus, `volume/api.py`, `api/contrib/admin_actions.py`).
 * States are Cinder's statuses, except `init` (a record before CREATE), `migrating` and `snapshotting`,
 * where Cinder keeps the volume's status and reports the work elsewhere (`migration_status`, the
 * snapshot's own status): their meta keeps the status they started in. `attachments` counts the
 * servers it is attached to; a `multiattach` volume accepts more than one.
 * Simplified: no `downloading` (create from an image), `restoring-backup`, `maintenance`, managing or
 * groups; a snapshot's and a backup's own lifecycles are not modelled.
 */
export const volumeLifecycle = {
  id: 'volume',
  initial: 'init',
  facts: { attachments: 0, multiattach: false },
  states: {
    init: {
      description: 'requested, nothing allocated yet',
      meta: { status: null, migration_status: null },
      on: {
        CREATE: [
          'creating',
          'a user creates a volume (multiattach: true for a multi-attach volume type)',
          { set: { multiattach: { field: 'multiattach', otherwise: false } } },
        ],
      },
    },
    creating: {
      description: 'allocating on a backend',
      meta: { status: 'creating' },
      action: 'create',
      done: ['available', 'the backend allocated it'],
      error: ['error', 'no backend could allocate it'],
    },
    available: {
      description: 'ready, attached to nothing',
      meta: { status: 'available', migration_status: null },
      on: {
        RESERVE: ['reserved', 'a server reserves it (attachment create without a connector)'],
        ATTACH: ['attaching', 'a user attaches it to a server'],
        EXTEND: ['extending', 'a user grows it offline'],
        DELETE: [['deleting', 'a user deletes it (nothing attached)', DETACHED]],
        TRANSFER: ['awaiting-transfer', 'a user offers it to another project'],
        UPLOAD_TO_IMAGE: ['uploading', 'a user copies it to an image'],
      },
    },
    reserved: {
      description: 'held for a server that has not connected yet (attachments API)',
      meta: { status: 'reserved' },
      on: {
        ATTACH: ['attaching', 'the server connects (attachment update with a connector)'],
        UNRESERVE: [
          [
            'in-use',
            'the reservation is dropped; other attachments remain',
            { when: { fact: 'attachments', atLeast: 1 } },
          ],
          ['available', 'the reservation is dropped (attachment delete)'],
        ],
      },
    },
    attaching: {
      description: 'connecting it to a server',
      meta: { status: 'attaching' },
      action: 'attach',
      done: ['in-use', 'the server sees the volume', { set: { attachments: { add: 1 } } }],
      error: [
        [
          'in-use',
          'attach failed and was rolled back; its other attachments remain',
          { when: { fact: 'attachments', atLeast: 1 } },
        ],
        ['available', 'attach failed; the connection was rolled back'],
      ],
    },
    'in-use': {
      description: 'attached to one server, or several if multiattach',
      meta: { status: 'in-use', migration_status: null },
      on: {
        DETACH: ['detaching', 'a user detaches it from one server'],
        RESERVE: [['reserved', 'another server reserves a multiattach volume', MULTIATTACH]],
        ATTACH: [['attaching', 'another server attaches a multiattach volume', MULTIATTACH]],
        EXTEND: ['extending', 'a user grows it while attached (online extend, API 3.42)'],
        UPLOAD_TO_IMAGE: [
          [
            'uploading',
            'a user copies the attached volume to an image (Cinder needs force: true)',
            { when: { field: 'force', is: true } },
          ],
        ],
      },
    },
    detaching: {
      description: 'disconnecting it from one server',
      meta: { status: 'detaching' },
      action: 'detach',
      done: [
        [
          'in-use',
          'one server let go; others still have it',
          { when: { fact: 'attachments', atLeast: 2 }, set: { attachments: { add: -1 } } },
        ],
        ['available', 'the last server let go of it', { set: { attachments: 0 } }],
      ],
      error: ['in-use', 'detach failed; it is still attached'],
    },
    extending: {
      description: 'growing it on the backend',
      meta: { status: 'extending' },
      action: 'extend',
      done: backTo('it has the new size'),
      error: ['error_extending', 'the backend could not grow it; its size is unknown'],
    },
    retyping: {
      description: 'moving it to another volume type (maybe another backend)',
      meta: { status: 'retyping' },
      action: 'retype',
      done: backTo('it has the new type'),
      error: backTo('retype failed; it keeps its type'),
    },
    migrating: {
      description: 'copying it to another backend (Cinder keeps the status; migration_status says migrating)',
      meta: { migration_status: 'migrating' },
      action: 'migrate',
      done: backTo('it lives on the new backend (migration_status success)'),
      error: backTo('migration failed (migration_status error); it stays where it was'),
    },
    'backing-up': {
      description: 'copying it to a backup',
      meta: { status: 'backing-up' },
      action: 'backup',
      done: backTo('the backup is stored'),
      error: backTo('backup failed (the backup is in error); the volume is untouched'),
    },
    uploading: {
      description: 'copying it to an image',
      meta: { status: 'uploading' },
      action: 'upload',
      done: backTo('the image is uploaded'),
      error: backTo('upload failed; the volume is untouched'),
    },
    snapshotting: {
      description: 'taking a snapshot (Cinder keeps the volume’s status; the snapshot is creating)',
      meta: {},
      action: 'snapshot',
      done: backTo('the snapshot is available'),
      error: backTo('snapshot failed (the snapshot is in error); the volume is untouched'),
    },
    'awaiting-transfer': {
      description: 'offered to another project',
      meta: { status: 'awaiting-transfer' },
      on: {
        ACCEPT_TRANSFER: ['available', 'the other project accepts it and owns it now'],
        CANCEL_TRANSFER: ['available', 'the offer is withdrawn (transfer delete)'],
      },
    },
    deleting: {
      description: 'freeing it on the backend',
      meta: { status: 'deleting' },
      action: 'delete',
      done: ['deleted', 'the backend freed it'],
      error: [
        [
          'available',
          'the backend says it is busy (VolumeIsBusy): Cinder makes it available again',
          { when: { failed: 'VolumeIsBusy' } },
        ],
        ['error_deleting', 'the backend could not free it'],
      ],
    },
    error: {
      description: 'creation failed, or an admin marked it failed',
      meta: { status: 'error' },
      on: { DELETE: [['deleting', 'a user deletes the failed volume', DETACHED]] },
    },
    error_extending: {
      description: 'extend failed; data is intact, size unknown',
      meta: { status: 'error_extending' },
      on: { DELETE: [['deleting', 'a user deletes it', DETACHED]] },
    },
    error_deleting: {
      description: 'delete failed; only an admin reset or force-delete helps (a plain delete is refused)',
      meta: { status: 'error_deleting' },
      on: {},
    },
    deleted: { description: 'gone', meta: { status: 'deleted' }, final: true },
  },
  common: {
    RETYPE: { from: ['available', 'in-use'], to: ['retyping', 'a user changes its volume type'] },
    MIGRATE: { from: ['available', 'in-use'], to: ['migrating', 'an admin moves it to another backend'] },
    BACKUP: {
      from: ['available', 'in-use'],
      to: ['backing-up', 'a user backs it up (in-use: a backup of a snapshot)'],
    },
    SNAPSHOT: { from: ['available', 'in-use'], to: ['snapshotting', 'a user snapshots it'] },
    RESET_STATE: {
      from: 'any',
      except: ['init'],
      to: [
        [
          'available',
          'an admin resets the status (cinder reset-state --state available); what runs is cancelled',
        ],
        ['error', 'an admin marks it failed (cinder reset-state --state error); what runs is cancelled'],
      ],
    },
    FORCE_DELETE: {
      from: 'any',
      // Cinder refuses a volume whose attach_status is attached (in-use, detaching) or that migrates;
      // from deleting it restarts the delete (force skips the status check).
      except: ['init', 'migrating', 'in-use', 'detaching'],
      to: [
        [
          'deleting',
          'an admin force-deletes it whatever its status, unless attached (os-force_delete)',
          DETACHED,
        ],
      ],
    },
  },
} as const satisfies LifecycleDefinition;

export type VolumeState = StateOf<typeof volumeLifecycle>;

/** @example createActor(volumeMachine, { input: { resourceId: 'vol-1' } }) */
export const volumeMachine = lifecycle(volumeLifecycle);

/**
 * Cinder's `status` and `migration_status` for a snapshot of a volume machine (or a user's extended
 * one): `migrating` and `snapshotting` keep the status they started in, as Cinder does.
 *
 * @example volumeStatus(snapshot) // { status: 'in-use', migration_status: 'migrating' }
 */
export function volumeStatus(snapshot: AnyMachineSnapshot): {
  status: string | null;
  migration_status: string | null;
} {
  const labels =
    (snapshot.context as { labels?: Record<string, string | null> }).labels ?? stateMeta(snapshot);
  return { status: labels.status ?? null, migration_status: labels.migration_status ?? null };
}

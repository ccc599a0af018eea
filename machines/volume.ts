import { lifecycle } from './lifecycle.js';
import type { LifecycleDefinition } from './table.js';

const RESET = 'an admin resets the status after checking the backend (cinder reset-state)';

/**
 * A Cinder volume, with Cinder's own status names. Attach and detach failures roll back to where they
 * started, as Cinder does; a failed extend or delete gets its own error status.
 */
export const volumeLifecycle = {
  id: 'volume',
  initial: 'init',
  states: {
    init: {
      description: 'requested, nothing allocated yet',
      on: { CREATE: ['creating', 'a user creates a volume'] },
    },
    creating: {
      description: 'allocating on a backend',
      action: 'create',
      done: ['available', 'the backend allocated it'],
      error: ['error', 'no backend could allocate it'],
    },
    available: {
      description: 'ready, attached to nothing',
      on: {
        ATTACH: ['attaching', 'a user attaches it to a server'],
        EXTEND: ['extending', 'a user grows it (offline)'],
        DELETE: ['deleting', 'a user deletes it'],
      },
    },
    attaching: {
      description: 'connecting it to a server',
      action: 'attach',
      done: ['in-use', 'the server sees the volume'],
      error: ['available', 'attach failed; the connection was rolled back'],
    },
    'in-use': {
      description: 'attached to a server',
      on: { DETACH: ['detaching', 'a user detaches it'] },
    },
    detaching: {
      description: 'disconnecting it from its server',
      action: 'detach',
      done: ['available', 'the server let go of it'],
      error: ['in-use', 'detach failed; it is still attached'],
    },
    extending: {
      description: 'growing it on the backend',
      action: 'extend',
      done: ['available', 'it has the new size'],
      error: ['error_extending', 'the backend could not grow it; its size is unknown'],
    },
    deleting: {
      description: 'freeing it on the backend',
      action: 'delete',
      done: ['deleted', 'the backend freed it'],
      error: ['error_deleting', 'the backend could not free it'],
    },
    error: {
      description: 'creation failed',
      on: {
        DELETE: ['deleting', 'a user deletes the failed volume'],
        RESET_STATE: ['available', `${RESET}: it is usable`],
      },
    },
    error_extending: {
      description: 'extend failed; data is intact, size unknown',
      on: {
        DELETE: ['deleting', 'a user deletes it'],
        RESET_STATE: ['available', `${RESET}: its size is known again`],
      },
    },
    error_deleting: {
      description: 'delete failed; it may still hold space',
      on: {
        DELETE: ['deleting', 'a user retries the delete'],
        RESET_STATE: [
          ['available', `${RESET}: it was not deleted`],
          ['error', `${RESET}: mark it failed`],
        ],
      },
    },
    deleted: { description: 'gone', final: true },
  },
} as const satisfies LifecycleDefinition;

export type VolumeState = keyof typeof volumeLifecycle.states;

/** @example createActor(volumeMachine, { input: { resourceId: 'vol-1' } }) */
export const volumeMachine = lifecycle(volumeLifecycle);

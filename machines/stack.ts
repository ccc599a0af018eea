import { type LifecycleSnapshot, lifecycle, stateName } from './lifecycle.js';
import type { LifecycleDefinition } from './table.js';

/**
 * A Heat stack: `<action>_<status>` with action CREATE, UPDATE, DELETE or ROLLBACK and status
 * IN_PROGRESS, COMPLETE or FAILED, plus Heat's initial INIT_COMPLETE. Rollback is explicit (the ROLLBACK
 * event, or CANCEL of an update), so a caller that wants Heat's automatic rollback sends ROLLBACK on
 * entering CREATE_FAILED or UPDATE_FAILED.
 */
export const stackLifecycle = {
  id: 'stack',
  initial: 'INIT_COMPLETE',
  states: {
    INIT_COMPLETE: {
      description: 'stored, nothing created',
      on: { CREATE: ['CREATE_IN_PROGRESS', 'a user creates the stack'] },
    },
    CREATE_IN_PROGRESS: {
      description: 'creating resources in dependency order',
      action: 'create',
      done: ['CREATE_COMPLETE', 'every resource was created'],
      error: ['CREATE_FAILED', 'a resource failed to create'],
      on: {
        DELETE: ['DELETE_IN_PROGRESS', 'a stack may be deleted while it creates; the create is aborted'],
      },
    },
    CREATE_COMPLETE: {
      description: 'created',
      on: {
        UPDATE: ['UPDATE_IN_PROGRESS', 'a user applies a new template or parameters'],
        DELETE: ['DELETE_IN_PROGRESS', 'a user deletes the stack'],
      },
    },
    CREATE_FAILED: {
      description: 'partly created',
      on: {
        ROLLBACK: ['ROLLBACK_IN_PROGRESS', 'undo the partial create'],
        UPDATE: ['UPDATE_IN_PROGRESS', 'a user fixes the template and updates in place'],
        DELETE: ['DELETE_IN_PROGRESS', 'a user deletes the partial stack'],
      },
    },
    UPDATE_IN_PROGRESS: {
      description: 'changing resources to match the new template',
      action: 'update',
      done: ['UPDATE_COMPLETE', 'every resource matches the new template'],
      error: ['UPDATE_FAILED', 'a resource failed to update'],
      on: {
        CANCEL: [
          'ROLLBACK_IN_PROGRESS',
          'a user cancels the update (heat stack-cancel-update); it rolls back',
        ],
      },
    },
    UPDATE_COMPLETE: {
      description: 'updated',
      on: {
        UPDATE: ['UPDATE_IN_PROGRESS', 'a user applies a new template or parameters'],
        DELETE: ['DELETE_IN_PROGRESS', 'a user deletes the stack'],
      },
    },
    UPDATE_FAILED: {
      description: 'partly updated',
      on: {
        ROLLBACK: ['ROLLBACK_IN_PROGRESS', 'go back to the previous template'],
        UPDATE: ['UPDATE_IN_PROGRESS', 'a user fixes the template and retries'],
        DELETE: ['DELETE_IN_PROGRESS', 'a user deletes the stack'],
      },
    },
    ROLLBACK_IN_PROGRESS: {
      description: 'undoing the failed create or update (context.from says which)',
      action: 'rollback',
      done: ['ROLLBACK_COMPLETE', 'back to what was there before'],
      error: ['ROLLBACK_FAILED', 'the undo itself failed'],
    },
    ROLLBACK_COMPLETE: {
      description: 'rolled back',
      on: {
        UPDATE: ['UPDATE_IN_PROGRESS', 'a user tries again with a new template'],
        DELETE: ['DELETE_IN_PROGRESS', 'a user deletes the stack'],
      },
    },
    ROLLBACK_FAILED: {
      description: 'half undone',
      on: {
        UPDATE: ['UPDATE_IN_PROGRESS', 'a user repairs the stack with an update'],
        DELETE: ['DELETE_IN_PROGRESS', 'a user deletes the stack'],
      },
    },
    DELETE_IN_PROGRESS: {
      description: 'deleting resources in reverse dependency order',
      action: 'delete',
      done: ['DELETE_COMPLETE', 'every resource is gone'],
      error: ['DELETE_FAILED', 'a resource could not be deleted'],
    },
    DELETE_FAILED: {
      description: 'partly deleted',
      on: { DELETE: ['DELETE_IN_PROGRESS', 'a user retries the delete'] },
    },
    DELETE_COMPLETE: { description: 'gone', final: true },
  },
} as const satisfies LifecycleDefinition;

export type StackState = keyof typeof stackLifecycle.states;

/** @example createActor(stackMachine, { input: { resourceId: 'stack-1' } }) */
export const stackMachine = lifecycle(stackLifecycle);

/**
 * Heat's `action` and `status` of a stack snapshot.
 *
 * @example stackStatus(snapshot) // { action: 'UPDATE', status: 'IN_PROGRESS' }
 */
export function stackStatus(snapshot: LifecycleSnapshot): { action: string; status: string } {
  const name = stateName(snapshot);
  const status = ['IN_PROGRESS', 'COMPLETE', 'FAILED'].find((s) => name.endsWith(`_${s}`)) ?? '';
  return { action: name.slice(0, name.length - status.length - 1), status };
}

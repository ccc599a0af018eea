import type { AnyMachineSnapshot } from 'xstate';
import { lifecycle, stateMeta } from './lifecycle.js';
import type { LifecycleDefinition, LifecycleState, StateOf, Transition } from './table.js';

/** Heat's default `stack_action_timeout` (and a stack's default `timeout_mins`): one hour. */
const STACK_TIMEOUT_MS = 3_600_000;

/** Heat's `disable_rollback` (true unless the user asks for rollback) decides what a failure does. */
const rollbackOr = (failed: string, why: string): Transition[] => [
  [
    'ROLLBACK_IN_PROGRESS',
    `${why}; rollback is enabled (disable_rollback false), so Heat rolls back on its own`,
    { when: { fact: 'disable_rollback', is: false } },
  ],
  [failed, `${why}; rollback is disabled (the default)`],
];

const ROLLBACK_FLAG = { disable_rollback: { field: 'disable_rollback' } } as const;

/** An in-progress state and its two outcomes, with Heat's action/status pair as meta. */
function operation(
  action: string,
  description: string,
  done: string,
  error: Transition | readonly Transition[],
  extra: Partial<LifecycleState> = {},
) {
  return {
    description,
    meta: { action: action.toUpperCase(), status: 'IN_PROGRESS' },
    action,
    done: [`${action.toUpperCase()}_COMPLETE`, done] as Transition,
    error,
    ...extra,
    on: {
      RESET_STATE: [
        `${action.toUpperCase()}_FAILED`,
        'an operator marks a stuck action failed (heat-manage reset_stack_status); what runs is cancelled',
      ] as Transition,
      ...extra.on,
    },
  } as const;
}

const outcome = (action: string, status: 'COMPLETE' | 'FAILED', description: string) =>
  ({ description, meta: { action, status }, on: {} }) as const;

/**
 * A Heat stack (`heat/engine/stack.py` ACTIONS × STATUSES, `engine/service.py`): `<ACTION>_<STATUS>`
 * for CREATE, UPDATE, DELETE, ROLLBACK, SUSPEND, RESUME, CHECK, SNAPSHOT, RESTORE and ADOPT, with
 * IN_PROGRESS, COMPLETE and FAILED; `stackStatus` gives Heat's pair. A failed create, adopt or update
 * rolls back on its own when the stack was created (or updated) with `disable_rollback: false`;
 * CANCEL is `stack-cancel-update` (rolls back; `rollback: false` stops without). DELETE is accepted in
 * every state, IN_PROGRESS ones included (DELETE_IN_PROGRESS: the delete restarts): what runs is
 * cancelled first. ABANDON, like Heat's, only when no action runs. Create, adopt,
 * update, restore and rollback time out after Heat's default hour.
 * Simplified: `INIT` is a record before CREATE (Heat has no stack state before CREATE_IN_PROGRESS);
 * snapshots are counted, not modelled; convergence's concurrent updates are not.
 */
export const stackLifecycle = {
  id: 'stack',
  initial: 'INIT',
  facts: { disable_rollback: true, snapshots: 0 },
  states: {
    INIT: {
      description: 'requested, nothing stored in Heat yet',
      meta: { action: null, status: null },
      on: {
        CREATE: ['CREATE_IN_PROGRESS', 'a user creates the stack', { set: ROLLBACK_FLAG }],
        ADOPT: ['ADOPT_IN_PROGRESS', 'a user adopts existing resources as a stack', { set: ROLLBACK_FLAG }],
      },
    },
    CREATE_IN_PROGRESS: operation(
      'create',
      'creating resources in dependency order',
      'every resource was created',
      rollbackOr('CREATE_FAILED', 'a resource failed to create (or the stack timed out)'),
      {
        timeoutMs: STACK_TIMEOUT_MS,
        on: {
          CANCEL: [
            [
              'CREATE_FAILED',
              'a user stops the create without rollback (cancel_without_rollback)',
              { when: { field: 'rollback', is: false } },
            ],
          ],
        },
      },
    ),
    CREATE_COMPLETE: outcome('CREATE', 'COMPLETE', 'created'),
    CREATE_FAILED: outcome('CREATE', 'FAILED', 'partly created'),
    ADOPT_IN_PROGRESS: operation(
      'adopt',
      'taking existing resources over from abandoned-stack data',
      'every resource was adopted',
      rollbackOr('ADOPT_FAILED', 'a resource could not be adopted'),
      { timeoutMs: STACK_TIMEOUT_MS },
    ),
    ADOPT_COMPLETE: outcome('ADOPT', 'COMPLETE', 'adopted'),
    ADOPT_FAILED: outcome('ADOPT', 'FAILED', 'partly adopted'),
    UPDATE_IN_PROGRESS: operation(
      'update',
      'changing resources to match the new template',
      'every resource matches the new template',
      rollbackOr('UPDATE_FAILED', 'a resource failed to update (or the stack timed out)'),
      {
        timeoutMs: STACK_TIMEOUT_MS,
        on: {
          CANCEL: [
            [
              'UPDATE_FAILED',
              'a user stops the update without rollback (cancel_without_rollback)',
              { when: { field: 'rollback', is: false } },
            ],
            ['ROLLBACK_IN_PROGRESS', 'a user cancels the update (heat stack-cancel-update): it rolls back'],
          ],
        },
      },
    ),
    UPDATE_COMPLETE: outcome('UPDATE', 'COMPLETE', 'updated'),
    UPDATE_FAILED: outcome('UPDATE', 'FAILED', 'partly updated'),
    ROLLBACK_IN_PROGRESS: operation(
      'rollback',
      'undoing the failed create or update (context.from says which)',
      'back to what was there before',
      ['ROLLBACK_FAILED', 'the rollback itself failed'],
      { timeoutMs: STACK_TIMEOUT_MS },
    ),
    ROLLBACK_COMPLETE: outcome('ROLLBACK', 'COMPLETE', 'rolled back'),
    ROLLBACK_FAILED: outcome('ROLLBACK', 'FAILED', 'half rolled back'),
    SUSPEND_IN_PROGRESS: operation(
      'suspend',
      'suspending resources in reverse order',
      'every resource is suspended',
      ['SUSPEND_FAILED', 'a resource could not be suspended'],
    ),
    SUSPEND_COMPLETE: outcome('SUSPEND', 'COMPLETE', 'suspended'),
    SUSPEND_FAILED: outcome('SUSPEND', 'FAILED', 'partly suspended'),
    RESUME_IN_PROGRESS: operation(
      'resume',
      'resuming resources in dependency order',
      'every resource runs again',
      ['RESUME_FAILED', 'a resource could not be resumed'],
    ),
    RESUME_COMPLETE: outcome('RESUME', 'COMPLETE', 'resumed'),
    RESUME_FAILED: outcome('RESUME', 'FAILED', 'partly resumed'),
    CHECK_IN_PROGRESS: operation(
      'check',
      'checking that every resource still exists as stored',
      'every resource checks out',
      ['CHECK_FAILED', 'a resource is missing or broken'],
    ),
    CHECK_COMPLETE: outcome('CHECK', 'COMPLETE', 'checked'),
    CHECK_FAILED: outcome('CHECK', 'FAILED', 'a check failed'),
    SNAPSHOT_IN_PROGRESS: {
      ...operation('snapshot', 'snapshotting every resource that can be', 'the snapshot is stored', [
        'SNAPSHOT_FAILED',
        'a resource could not be snapshotted',
      ]),
      done: ['SNAPSHOT_COMPLETE', 'the snapshot is stored', { set: { snapshots: { add: 1 } } }],
    },
    SNAPSHOT_COMPLETE: outcome('SNAPSHOT', 'COMPLETE', 'snapshotted'),
    SNAPSHOT_FAILED: outcome('SNAPSHOT', 'FAILED', 'snapshot failed'),
    RESTORE_IN_PROGRESS: operation(
      'restore',
      'updating the stack back to a snapshot',
      'the stack matches the snapshot',
      ['RESTORE_FAILED', 'a resource could not be restored'],
      { timeoutMs: STACK_TIMEOUT_MS },
    ),
    RESTORE_COMPLETE: outcome('RESTORE', 'COMPLETE', 'restored'),
    RESTORE_FAILED: outcome('RESTORE', 'FAILED', 'partly restored'),
    DELETE_IN_PROGRESS: operation(
      'delete',
      'deleting resources in reverse dependency order (ABANDON: the record only)',
      'every resource is gone (or, abandoned, left to the user)',
      ['DELETE_FAILED', 'a resource could not be deleted'],
    ),
    DELETE_FAILED: outcome('DELETE', 'FAILED', 'partly deleted'),
    DELETE_COMPLETE: { description: 'gone', meta: { action: 'DELETE', status: 'COMPLETE' }, final: true },
  },
  common: {
    DELETE: {
      from: 'any',
      except: ['INIT'],
      // From DELETE_IN_PROGRESS too: Heat stops the running delete and starts a new one (delete_stack).
      to: ['DELETE_IN_PROGRESS', 'Heat deletes a stack in any state; an action in progress is stopped first'],
    },
    ABANDON: {
      // Heat's abandon_stack takes the stack lock (thread_lock): ActionInProgress while anything runs.
      from: 'stable',
      except: ['INIT'],
      to: [
        'DELETE_IN_PROGRESS',
        'a user abandons the stack while no action runs (else ActionInProgress): Heat deletes it but leaves its resources (the delete action sees ABANDON)',
      ],
    },
    UPDATE: {
      from: 'stable',
      except: ['INIT', 'SUSPEND_COMPLETE', 'SUSPEND_FAILED', 'DELETE_FAILED'],
      to: ['UPDATE_IN_PROGRESS', 'a user applies a new template or parameters', { set: ROLLBACK_FLAG }],
    },
    CHECK: {
      from: 'stable',
      except: ['INIT', 'DELETE_FAILED'],
      to: ['CHECK_IN_PROGRESS', 'a user checks the stack’s resources'],
    },
    SNAPSHOT: {
      from: 'stable',
      except: ['INIT', 'DELETE_FAILED'],
      to: ['SNAPSHOT_IN_PROGRESS', 'a user snapshots the stack'],
    },
    RESTORE: {
      from: 'stable',
      // No snapshot can exist before the stack was created or adopted.
      except: ['INIT', 'DELETE_FAILED', 'CREATE_COMPLETE', 'CREATE_FAILED', 'ADOPT_COMPLETE', 'ADOPT_FAILED'],
      to: [
        [
          'RESTORE_IN_PROGRESS',
          'a user restores a snapshot of the stack',
          { when: { fact: 'snapshots', atLeast: 1 } },
        ],
      ],
    },
    SUSPEND: {
      from: 'stable',
      except: ['INIT', 'DELETE_FAILED', 'SUSPEND_COMPLETE'],
      to: ['SUSPEND_IN_PROGRESS', 'a user suspends the stack'],
    },
    RESUME: {
      from: ['SUSPEND_COMPLETE', 'SUSPEND_FAILED', 'RESUME_FAILED'],
      to: ['RESUME_IN_PROGRESS', 'a user resumes the suspended stack'],
    },
  },
} as const satisfies LifecycleDefinition;

export type StackState = StateOf<typeof stackLifecycle>;

/** @example createActor(stackMachine, { input: { resourceId: 'stack-1' } }) */
export const stackMachine = lifecycle(stackLifecycle);

/**
 * Heat's `action` and `status` of a stack snapshot (null before CREATE), from the states' meta, so a
 * user's extended table reports them too.
 *
 * @example stackStatus(snapshot) // { action: 'UPDATE', status: 'IN_PROGRESS' }
 */
export function stackStatus(snapshot: AnyMachineSnapshot): { action: string | null; status: string | null } {
  const labels =
    (snapshot.context as { labels?: Record<string, string | null> }).labels ?? stateMeta(snapshot);
  return { action: labels.action ?? null, status: labels.status ?? null };
}

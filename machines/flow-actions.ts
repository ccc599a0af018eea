import { type Engine, type Flow, FlowDefinitionError, type FlowRun, RunExistsError } from '../src/index.js';
import { LifecycleStoppedError } from './errors.js';
import type { ActionInput } from './lifecycle.js';
import type { CancelInput, LifecycleAction } from './runner.js';

export interface FlowActionsOptions {
  /**
   * The run's inputs for one action. Flows that need an earlier action's results read them from
   * `input.context.outputs` (e.g. a delete flow from `outputs.create`).
   * @default the event's fields without `type` and `state` (`{ type: 'CREATE', network: 'net-1' }` → `{ network: 'net-1' }`)
   */
  inputs?: (input: ActionInput) => Record<string, unknown>;
}

/**
 * Lifecycle actions that each run a flow on `engine`. The run's id is the action's `input.key`, which a
 * restored resource replays unchanged, so an action re-run after a restart resumes the run it started
 * (finished tasks are not run again; a finished run gives its stored outcome) instead of starting a
 * second one. The action resolves with the run's results (kept in `context.outputs[action]`); a failed
 * run (everything reverted: `FlowFailedError`) makes it throw, so the table's error transition is taken.
 *
 * When the resource moves on while the run is going (DELETE while BUILDING) or the action times out,
 * the run is cancelled: running tasks abort and what ran is reverted. Each action's `cancel` does the
 * same for a run of another process (`engine.revert`, also of a run that had just succeeded), so a
 * restored runner finishes the job; the resource's next action starts only after it. When the runner
 * stops, the run is left to the engine (`engine.close()` leaves it stored) for the next runner to resume.
 *
 * @example
 * const engine = createEngine({ store: redisStore({ redis, prefix }) });
 * const actions = {
 *   ...noopActions, // the table's other actions
 *   ...flowActions(engine, { create: serverBoot, delete: 'server-delete' }, {
 *     inputs: ({ event, context }) => ({ ...context.outputs.create as object, network: event.network }),
 *   }),
 * };
 * const run = await runLifecycle(serverMachine, { resourceId: 'srv-1', actions, store });
 */
export function flowActions(
  engine: Engine,
  flows: Readonly<Record<string, Flow | string>>,
  options: FlowActionsOptions = {},
): Record<string, LifecycleAction> {
  if (flows === null || typeof flows !== 'object') {
    throw new FlowDefinitionError(
      `Expected an object of action name → flow or flow name, got ${String(flows)}`,
    );
  }
  const inputsOf = options.inputs ?? eventFields;
  if (typeof inputsOf !== 'function') {
    throw new FlowDefinitionError(`Expected \`inputs\` to be a function, got ${typeof inputsOf}`);
  }
  for (const [action, flow] of Object.entries(flows)) {
    if (typeof flow === 'string') continue; // registered on the engine already, checked when it runs
    if (flow === null || typeof flow !== 'object') {
      throw new FlowDefinitionError(
        `Expected a flow or a flow name for action \`${action}\`, got ${String(flow)}`,
      );
    }
    // Registered now, so a resource restored before this process started any run can resume by name.
    engine.register(flow);
  }
  /** By run id: the revert of a run cancelled in this process. */
  const cancelling = new Map<string, Promise<void>>();

  const bind = (flow: Flow | string): LifecycleAction => {
    const action: LifecycleAction = async (input, signal) => {
      signal.throwIfAborted();
      // Bad inputs throw here (MissingInputsError, NotSerializableError): the action fails, nothing ran.
      const started = engine.start(flow, inputsOf(input), { id: input.key });
      try {
        return await follow(started, input, signal);
      } catch (error) {
        // A replayed action: its run is stored already. Take it over and continue it.
        if (!(error instanceof RunExistsError)) throw error;
      }
      signal.throwIfAborted();
      return follow(await engine.resume(input.key), input, signal);
    };
    action.cancel = (input) => cancelling.get(input.key) ?? revertStored(input);
    return action;
  };

  /**
   * Cancel a run of this process; resolves once it has ended reverted, rejects if its revert failed. A
   * run that succeeded just before the cancel landed is reverted too: the resource moved on without it.
   */
  const cancelRun = async (run: FlowRun) => {
    // Also while its create is in flight: the engine drives a run from the moment it hands it out.
    void run.cancel();
    const succeeded = await run.result.then(
      () => true,
      () => false,
    );
    if (succeeded) return engine.revert(run.id);
    if (run.status !== 'REVERTED') await run.result;
  };

  /** Undo a run this process is not cancelling: revert it wherever it stands (idempotent). */
  const revertStored = async ({ key }: CancelInput) => {
    const info = await engine.get(key);
    if (!info || info.meta.status === 'REVERTED') return; // never started, or undone already
    await engine.revert(key);
  };

  /** The run's outcome; on abort, cancel it (the resource moved on) or leave it (the runner stopped). */
  const follow = (run: FlowRun, input: ActionInput, signal: AbortSignal) =>
    new Promise<unknown>((resolve, reject) => {
      const abort = () => {
        if (!(signal.reason instanceof LifecycleStoppedError)) {
          const reverted = cancelRun(run).finally(() => {
            if (cancelling.get(input.key) === reverted) cancelling.delete(input.key);
          });
          cancelling.set(input.key, reverted);
        }
        reject(signal.reason);
      };
      if (signal.aborted) return abort();
      signal.addEventListener('abort', abort, { once: true });
      run.result.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
    });

  return Object.fromEntries(Object.entries(flows).map(([action, flow]) => [action, bind(flow)]));
}

function eventFields(input: ActionInput): Record<string, unknown> {
  const { type: _type, state: _state, ...fields } = input.event;
  return fields;
}

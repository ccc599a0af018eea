/**
 * A server's lifecycle (machines/server.ts) with a flow behind each operation: CREATE runs the
 * server-boot flow, STOP and START power the guest off and on, DELETE tears down what the boot made.
 * Each action runs as a taskweave run whose id is the action's key (`srv-1:create:1`), so a resource
 * restored after a crash resumes that run instead of starting a second one.
 *
 * The first server goes create → stop → start → delete. The second one's boot fails at boot-vm: the
 * boot run reverts everything it made and the server ends in ERROR. Memory stores throughout.
 *
 *   npx tsx examples/server-lifecycle.ts
 *
 * `makeServerFlows()` and `serverActions()` are reused by the tests (test/integration/lifecycle-redis.test.ts).
 */
import { pathToFileURL } from 'node:url';
import {
  type ActionInput,
  flowActions,
  type LifecycleAction,
  type LifecycleSnapshot,
  type LifecycleStore,
  memoryLifecycleStore,
  runLifecycle,
  serverLifecycle,
  serverMachine,
  serverStatus,
  stateName,
} from '../machines/index.js';
import { actionNames } from '../machines/table.js';
import { createEngine, type Engine, type Flow, linear, parallel, task } from '../src/index.js';
import { type FakeCloud, fakeCloud, makeServerBoot, type ServerBootOptions } from './server-boot.js';

/** The flows behind the server's operations, by action name. */
export interface ServerFlows {
  create: Flow;
  stop: Flow;
  start: Flow;
  delete: Flow;
}

/**
 * `create` is the server boot; `stop`/`start` one task each on the boot's `vm`; `delete` removes the
 * VM, then its port and volume at once, then releases the IP. All call `options.cloud`.
 *
 * @example
 * const flows = makeServerFlows({ cloud: fakeCloud(), failAt: 'boot-vm' });
 */
export function makeServerFlows(options: ServerBootOptions & { cloud: FakeCloud }): ServerFlows {
  const { cloud } = options;
  const power = (name: string, step: string) =>
    linear(
      name,
      [
        task({
          name: step,
          requires: 'vm',
          provides: 'power',
          async execute({ vm }: { vm: string }) {
            cloud.calls.push(`${step} ${vm}`);
            return step === 'power-on' ? 'on' : 'off';
          },
        }),
      ],
      { version: '1' },
    );
  const remove = (kind: string, input: string) =>
    task({
      name: `delete-${kind}`,
      requires: input,
      async execute(args: Record<string, string>) {
        await cloud.delete(kind, args[input]!);
      },
    });
  return {
    create: makeServerBoot(options),
    stop: power('server-stop', 'power-off'),
    start: power('server-start', 'power-on'),
    delete: linear(
      'server-delete',
      [
        remove('vm', 'vm'),
        parallel('detach', [remove('port', 'port'), remove('volume', 'volume')]),
        remove('ip', 'ip'),
      ],
      { version: '1' },
    ),
  };
}

/**
 * A run's inputs: the event's fields (CREATE's `network` and `sizeGb`) and what the boot made
 * (`ip`, `volume`, `port`, `vm`), which stop, start and delete work on.
 */
export function serverInputs({ event, context }: ActionInput): Record<string, unknown> {
  const { type: _type, state: _state, ...fields } = event;
  return { ...fields, ...(context.outputs.create as Record<string, unknown> | undefined) };
}

/** Every action of the server table: the four flows, and a refusal for the ones this example leaves out. */
export function serverActions(engine: Engine, flows: ServerFlows): Record<string, LifecycleAction> {
  const unsupported = Object.fromEntries(
    actionNames(serverLifecycle).map((action) => [
      action,
      async () => {
        throw new Error(`\`${action}\` has no flow in this example`);
      },
    ]),
  );
  return { ...unsupported, ...flowActions(engine, { ...flows }, { inputs: serverInputs }) };
}

const show = (snapshot: LifecycleSnapshot) => {
  const { vm_state, task_state } = serverStatus(snapshot);
  return `${stateName(snapshot)} (vm_state ${vm_state}${task_state ? `, task_state ${task_state}` : ''})`;
};

async function operate(
  engine: Engine,
  store: LifecycleStore,
  cloud: FakeCloud,
  resourceId: string,
  flows: ServerFlows,
  events: { type: string; [field: string]: unknown }[],
): Promise<void> {
  console.log(`\n=== ${resourceId} ===`);
  const server = await runLifecycle(serverMachine, {
    resourceId,
    store,
    actions: serverActions(engine, flows),
  });
  for (const event of events) {
    const { type, ...fields } = event;
    const before = stateName(server.getSnapshot());
    const during = await server.send(event);
    const after = await server.settled();
    console.log(`${type}${Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ''}`);
    console.log(`  ${before} → ${stateName(during)} → ${show(after)}`);
    // The action's run id is its key: `<resourceId>:<action>:<n>`, n counting the resource's actions.
    const action = Object.keys(during.children)[0];
    const run = action ? await engine.get(`${resourceId}:${action}:${during.context.runs}`) : undefined;
    if (run) console.log(`  run ${run.meta.id}: flow ${run.meta.flow}, ${run.meta.status}`);
    const error = after.context.error;
    if (error) console.log(`  error(${error.action}): ${error.failure.name}: ${error.failure.message}`);
    if (cloud.calls.length) console.log(`  cloud: ${cloud.calls.splice(0).join(', ')}`);
  }
  console.log(`left behind: ${[...cloud.live].join(', ') || 'nothing'}`);
  await server.stop();
}

async function main(): Promise<void> {
  console.log(
    'server-lifecycle: each operation of a server runs a flow; a failed flow reverts and the server goes to ERROR',
  );
  const engine = createEngine(); // memory store
  const store = memoryLifecycleStore();

  const cloud = fakeCloud();
  await operate(engine, store, cloud, 'srv-1', makeServerFlows({ cloud }), [
    { type: 'CREATE', network: 'net-1', sizeGb: 20 },
    { type: 'STOP' },
    { type: 'START' },
    { type: 'DELETE' },
  ]);

  const broken = fakeCloud();
  await operate(engine, store, broken, 'srv-2', makeServerFlows({ cloud: broken, failAt: 'boot-vm' }), [
    { type: 'CREATE', network: 'net-1', sizeGb: 20 },
  ]);
  await engine.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();

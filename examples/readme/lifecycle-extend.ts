// README "Resource lifecycles": extending a built-in table.
import {
  actionNames,
  type LifecycleDefinition,
  lifecycle,
  memoryLifecycleStore,
  runLifecycle,
  serverLifecycle,
  serverStatus,
  stateName,
} from 'taskweave/machines';

const myServer = {
  ...serverLifecycle,
  id: 'my-server',
  states: {
    ...serverLifecycle.states,
    BUILDING: { ...serverLifecycle.states.BUILDING, timeoutMs: 600_000 }, // Nova's instance_build_timeout
    ACTIVE: {
      ...serverLifecycle.states.ACTIVE,
      on: { ...serverLifecycle.states.ACTIVE.on, DRAIN: ['DRAINING', 'an operator drains the host'] },
    },
    DRAINING: {
      description: 'moving workloads away',
      meta: { task_state: 'draining' }, // vm_state stays what it was
      action: 'drain',
      done: ['MAINTENANCE', 'drained'],
      error: ['ACTIVE', 'drain failed; it still serves'],
    },
    MAINTENANCE: {
      description: 'out of service',
      meta: { vm_state: 'maintenance', task_state: null },
      on: { RETURN: ['ACTIVE', 'back in service'] },
    },
  },
} as const satisfies LifecycleDefinition;

const cloud = async () => ({});
const server = await runLifecycle(lifecycle(myServer), {
  resourceId: 'srv-1',
  store: memoryLifecycleStore(),
  actions: Object.fromEntries(actionNames(myServer).map((action) => [action, cloud])),
});
await server.send({ type: 'CREATE' });
await server.settled();
await server.send({ type: 'DRAIN' });
serverStatus(server.getSnapshot()); // { vm_state: 'active', task_state: 'draining' }
const state = stateName(await server.settled()); // typed: ServerState | 'DRAINING' | 'MAINTENANCE'
console.log(state, serverStatus(server.getSnapshot()));
await server.stop();

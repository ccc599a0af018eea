// README "Resource lifecycles".
import {
  actionNames,
  memoryLifecycleStore,
  runLifecycle,
  stateName,
  volumeLifecycle,
  volumeMachine,
} from 'taskweave/machines';

// What your cloud does for each action (here: nothing but a value).
const cloud = async () => ({});
const actions = Object.fromEntries(actionNames(volumeLifecycle).map((action) => [action, cloud]));

const volume = await runLifecycle(volumeMachine, {
  resourceId: 'vol-1',
  store: memoryLifecycleStore(),
  actions: { ...actions, create: async () => ({ backend: 'ceph-1' }) },
});
await volume.send({ type: 'CREATE', multiattach: true });
stateName(await volume.settled()); // 'available'
await volume.send({ type: 'ATTACH', server: 'srv-1' });
stateName(await volume.settled()); // 'in-use'
console.log(stateName(await volume.settled()), volume.getSnapshot().context.facts);
await volume.stop();

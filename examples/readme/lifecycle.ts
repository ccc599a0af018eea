// README "Resource lifecycles".
import { memoryLifecycleStore, runLifecycle, stateName, volumeMachine } from 'taskweave/machines';

// What your cloud does for each action (here: nothing but a value).
const attach = async () => ({});
const detach = async () => ({});
const extend = async () => ({});
const remove = async () => ({});

const volume = await runLifecycle(volumeMachine, {
  resourceId: 'vol-1',
  store: memoryLifecycleStore(),
  actions: { create: async () => ({ backend: 'ceph-1' }), attach, detach, extend, delete: remove },
});
await volume.send({ type: 'CREATE' });
stateName(await volume.settled()); // 'available'
console.log(stateName(await volume.settled()));

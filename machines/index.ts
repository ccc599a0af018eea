export { lifecycleToDot, lifecycleToMermaid } from './diagram.js';
export {
  LifecycleConflictError,
  LifecycleDefinitionError,
  LifecycleEventError,
  LifecycleStoppedError,
} from './errors.js';
export { type FlowActionsOptions, flowActions } from './flow-actions.js';
export {
  type ActionFailure,
  type ActionInput,
  inProgress,
  type LifecycleContext,
  type LifecycleEvent,
  type LifecycleMachine,
  type LifecycleSnapshot,
  lifecycle,
  stateMeta,
  stateName,
} from './lifecycle.js';
export {
  LIFECYCLE_KIND,
  type RedisLifecycleStore,
  type RedisLifecycleStoreOptions,
  redisLifecycleStore,
} from './redis-lifecycle-store.js';
export {
  allowedEvents,
  type LifecycleAction,
  type LifecycleRun,
  type LifecycleStore,
  memoryLifecycleStore,
  type RunLifecycleOptions,
  runLifecycle,
} from './runner.js';
export { type ServerState, serverLifecycle, serverMachine, serverStatus } from './server.js';
export { type StackState, stackLifecycle, stackMachine, stackStatus } from './stack.js';
export {
  actionNames,
  type LifecycleDefinition,
  type LifecycleState,
  type LifecycleTable,
  outcomeEvent,
  type Transition,
  type TransitionRow,
  transitionRows,
} from './table.js';
export { type VolumeState, volumeLifecycle, volumeMachine } from './volume.js';

export { lifecycleToDot, lifecycleToMermaid } from './diagram.js';
export { lifecycleToMarkdown } from './docs.js';
export {
  ActionTimeoutError,
  LifecycleConflictError,
  LifecycleDefinitionError,
  LifecycleEventError,
  LifecycleNotFinalError,
  LifecycleStoppedError,
  LifecycleStoreError,
} from './errors.js';
export { type FlowActionsOptions, flowActions } from './flow-actions.js';
export { guardText } from './guards.js';
export {
  type ActionFailure,
  type ActionInput,
  type InterruptedAction,
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
  type CancelInput,
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
  type CommonEvent,
  expandTable,
  type Facts,
  type FactUpdate,
  type FactValue,
  type Guard,
  type LifecycleDefinition,
  type LifecycleState,
  type LifecycleTable,
  operationStarts,
  outcomeEvent,
  type StateOf,
  type Transition,
  type TransitionOptions,
  type TransitionRow,
  type Transitions,
  transitionRows,
} from './table.js';
export { type VolumeState, volumeLifecycle, volumeMachine, volumeStatus } from './volume.js';

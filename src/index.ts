// taskweave's public API: everything users import comes from here.
export { task } from './flow/task.js';
export { linear, parallel, graph } from './flow/patterns.js';
export { retry } from './flow/retry.js';
export type {
  Task,
  TaskOptions,
  TaskContext,
  TaskRetryOptions,
  RevertExtras,
  Flow,
  FlowOptions,
  FlowKind,
  Link,
  Decider,
  Node,
  RetryController,
  RetryDecision,
} from './flow/types.js';

export { compile, type CompiledFlow, type TaskStateEvent } from './compile/compile.js';
export { toMermaid } from './compile/mermaid.js';
export { toDot } from './compile/dot.js';
export { TASK_STATES, TASK_TRANSITIONS, type TaskState, type TaskTransition } from './compile/task-states.js';
export type { RunContext, RunInput, TaskRecord } from './compile/run-context.js';

export { createEngine, type Engine, type EngineOptions, type StartOptions } from './engine/engine.js';
export { FlowRun, type TaskEvent, type FlowEvent, type ProgressEvent } from './engine/flow-run.js';
export type { RunInfo } from './engine/run-info.js';

export { memoryStore } from './store/memory-store.js';
export { redisStore, type RedisStoreOptions } from './store/redis-store.js';
export {
  RUN_STATUSES,
  FINISHED_STATUSES,
  type Store,
  type RunStatus,
  type RunMeta,
  type StoredRun,
  type RunWrite,
  type ListRunsOptions,
  type PurgeOptions,
} from './store/store.js';
export { encodeValue, decodeValue } from './store/codec.js';

export { redisJobBoard, type RedisJobBoardOptions } from './jobs/redis-job-board.js';
export {
  JOB_STATES,
  FINAL_JOB_STATES,
  JOB_TRANSITIONS,
  JobCorruptError,
  JobNotFoundError,
  JobWaitTimeoutError,
  JobBoardClosedError,
  InvalidJobOptionError,
  type JobBoard,
  type Job,
  type JobState,
  type PostJob,
  type ListJobsOptions,
  type ClaimOptions,
  type Claim,
  type FailOptions,
  type WaitJobOptions,
  type JobCounts,
} from './jobs/job-board.js';
export {
  createConductor,
  type Conductor,
  type StopOptions,
  type ConductorEvents,
  type ConductorStats,
  type ConductorOptions,
  type OrphanPolicy,
} from './jobs/conductor.js';
export { ConductorStoppedError, LeaseOverdueError, OrphanRevertedError } from './jobs/conductor-errors.js';
export type { FailureRecord } from './store/failure-record.js';

export {
  TaskweaveError,
  FlowDefinitionError,
  DependencyCycleError,
  MissingInputsError,
  DuplicateNameError,
  FlowFailedError,
  RevertFailedError,
  TaskTimeoutError,
  CancelledError,
  RunSuspendedError,
  NotSerializableError,
  UnknownFlowError,
  FlowVersionMismatchError,
  SnapshotCorruptError,
  LeaseLostError,
  StoreUnavailableError,
  VersionConflictError,
  RunExistsError,
  RunNotFoundError,
  EngineClosedError,
  type TaskFailure,
  type MissingInput,
} from './errors.js';

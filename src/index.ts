// taskweave's public API: everything users import comes from here.

export {
  type CompiledFlow,
  compile,
  type RunStepEvent,
  type TaskChange,
  type TaskStateEvent,
} from './compile/compile.js';
export { toDot } from './compile/dot.js';
export { toMermaid } from './compile/mermaid.js';
export type { RunContext, RunInput, TaskRecord } from './compile/run-context.js';
export { findRecord } from './compile/task-records.js';
export {
  createDashboard,
  type Dashboard,
  DashboardOptionError,
  type DashboardOptions,
} from './dashboard/dashboard.js';
export { createEngine, type Engine, type EngineOptions, type StartOptions } from './engine/engine.js';
export type { Explanation, WaitingOn, WaitReason } from './engine/explain.js';
export { type FlowEvent, FlowRun, type ProgressEvent, type TaskEvent } from './engine/flow-run.js';
export type { WatchOptions } from './engine/run-history.js';
export type { RunInfo } from './engine/run-info.js';
export type { SpanLike, TracerLike } from './engine/tracing.js';
export {
  CancelledError,
  DeliveryExhaustedError,
  DependencyCycleError,
  DuplicateNameError,
  EngineClosedError,
  FlowDefinitionError,
  FlowFailedError,
  FlowVersionMismatchError,
  InvalidOptionError,
  LeaseLostError,
  type MissingInput,
  MissingInputsError,
  NotSerializableError,
  RedisAuthError,
  RedisReplyError,
  RevertFailedError,
  RolledBackError,
  RunExistsError,
  RunLostError,
  RunNotFoundError,
  RunSuspendedError,
  SnapshotCorruptError,
  StoreUnavailableError,
  type TaskFailure,
  TaskTimeoutError,
  TaskweaveError,
  UnknownFlowError,
  VersionConflictError,
} from './errors.js';
export { graph, linear, parallel } from './flow/patterns.js';
export { retry } from './flow/retry.js';
export { task } from './flow/task.js';
export type {
  Decider,
  Flow,
  FlowKind,
  FlowOptions,
  Link,
  Node,
  RetryController,
  RetryDecision,
  RevertExtras,
  Task,
  TaskContext,
  TaskOptions,
  TaskRetryOptions,
} from './flow/types.js';
export {
  type Conductor,
  type ConductorEvents,
  type ConductorOptions,
  type ConductorStats,
  createConductor,
  type OrphanPolicy,
  type StopOptions,
} from './jobs/conductor.js';
export {
  ConductorStoppedError,
  JobLostError,
  LeaseOverdueError,
  OrphanRevertedError,
} from './jobs/conductor-errors.js';
export {
  type Claim,
  type ClaimOptions,
  type FailOptions,
  FINAL_JOB_STATES,
  InvalidJobOptionError,
  JOB_STATES,
  JOB_TRANSITIONS,
  type Job,
  type JobBoard,
  JobBoardClosedError,
  JobCorruptError,
  type JobCounts,
  JobNotFoundError,
  type JobState,
  JobWaitTimeoutError,
  type ListJobsOptions,
  type PostJob,
  type WaitJobOptions,
} from './jobs/job-board.js';
export {
  type PurgeJobsOptions,
  type RedisJobBoard,
  type RedisJobBoardOptions,
  redisJobBoard,
} from './jobs/redis-job-board.js';
export { decodeValue, encodeValue } from './model/codec.js';
export type { FailureRecord } from './model/failure-record.js';
export type { FlowNodeStructure, FlowStructure } from './model/flow-structure.js';
export {
  PHASE_TRANSITIONS,
  type PhaseTransition,
  RUN_TRANSITIONS,
  type RunPhase,
  type RunTransition,
} from './model/run-status.js';
export { TASK_STATES, TASK_TRANSITIONS, type TaskState, type TaskTransition } from './model/task-states.js';
export { type MemoryStoreOptions, memoryStore } from './store/memory-store.js';
export { type RedisStoreOptions, redisStore } from './store/redis-store.js';
export {
  DEFAULT_HISTORY_LIMIT,
  type HistoryOptions,
  type NewRunEvent,
  type RunEvent,
  type WatchHistoryOptions,
} from './store/run-history.js';
export {
  type CorruptRun,
  type CreateOptions,
  FINISHED_STATUSES,
  isCorruptRun,
  type ListedRun,
  type ListRunsOptions,
  type PurgeOptions,
  type ReadOptions,
  RUN_STATUSES,
  type RunMeta,
  type RunStatus,
  type RunWrite,
  type Store,
  type StoredRun,
  type WriteOptions,
} from './store/store.js';
export { createWorker, type Worker, type WorkerEvents, type WorkerOptions } from './workers/worker.js';

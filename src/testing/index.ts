// taskweave/testing: model-based path testing of flows against the real engine.

export type { CallKind, TraceEvent } from './call-gate.js';
export { checkTrace } from './check-trace.js';
export { type FlowPath, type FlowPathSet, type FlowPathsOptions, flowPaths } from './flow-paths.js';
export {
  type FlowEvent,
  type FlowSnapshot,
  type FlowTraversal,
  type FlowTraversalOptions,
  flowTraversal,
  type PathStep,
  type StepOutcome,
  UnknownSnapshotError,
} from './flow-traversal.js';
export { InjectedFailureError } from './injected-failure.js';
export {
  type PathReport,
  type PathRun,
  PathTestError,
  type PathViolation,
  type TestFlowPathsOptions,
  testFlowPaths,
} from './test-flow-paths.js';

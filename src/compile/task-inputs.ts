import type { FailureRecord } from '../model/failure-record.js';
import type { FlowGraph } from './flow-graph.js';
import type { RunContext } from './run-context.js';
import type { Scheduler } from './scheduler.js';
import type { ExecuteInput, RevertInput, SleepInput } from './task-actors.js';
import { recordOf } from './task-records.js';

/**
 * What a busy task's actor is started with, from the run's context as the step that made it busy left
 * it: plain data (persisted with the actor). Both compile shapes start actors with these.
 */
export function executeInput(
  graph: FlowGraph,
  scheduler: Scheduler,
  context: RunContext,
  task: string,
): ExecuteInput {
  return {
    runId: context.runId,
    task,
    attempt: recordOf(graph, context, task).a,
    idempotencyKey: scheduler.key(context, task),
    args: scheduler.encodedArgs(context, task),
  };
}

/** A backoff: until the time the retry decision set in the record. */
export function sleepInput(graph: FlowGraph, context: RunContext, task: string): SleepInput {
  return { until: recordOf(graph, context, task).at ?? 0 };
}

export function revertInput(
  graph: FlowGraph,
  scheduler: Scheduler,
  context: RunContext,
  task: string,
): RevertInput {
  const rec = recordOf(graph, context, task);
  const flowFailures: Record<string, FailureRecord> = {};
  for (const { task: failed, failure } of context.failures) flowFailures[failed] = failure;
  return {
    runId: context.runId,
    task,
    attempt: rec.a,
    idempotencyKey: scheduler.key(context, task),
    args: scheduler.encodedArgs(context, task),
    result: rec.r,
    error: rec.f,
    flowFailures,
  };
}

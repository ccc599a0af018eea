import { createEngine, type Engine } from '../engine/engine.js';
import { TaskweaveError } from '../errors.js';
import type { Flow } from '../flow/types.js';
import { TASK_ACTORS, taskActorId } from '../model/names.js';
import type { RunStatus } from '../model/run-status.js';
import { CallGate, type TraceEvent } from './call-gate.js';
import { checkTrace } from './check-trace.js';
import { type FlowPath, type FlowPathsOptions, flowPaths, splitCall } from './flow-paths.js';
import type { PathStep } from './flow-traversal.js';
import { gatedFlow } from './gated-flow.js';

/** What one replayed path did: handed to `check` for the user's own assertions. */
export interface PathRun {
  path: FlowPath;
  /** The real run's final status. */
  status: RunStatus;
  /** The run's results, on SUCCESS. */
  results: Record<string, unknown> | undefined;
  /** Why `run.result` rejected, otherwise. */
  error: Error | undefined;
  /** Every execute and revert of the run, in order. */
  trace: readonly TraceEvent[];
}

// biome-ignore lint/suspicious/noConfusingVoidType: a check that finds nothing may return nothing.
type CheckResult = void | string | readonly string[];

export interface TestFlowPathsOptions extends FlowPathsOptions {
  /** Called once per path for a fresh engine, closed after the path. @default () => createEngine() (memory store) */
  make?: () => Engine;
  /** Replay these paths instead of enumerating them. */
  paths?: readonly FlowPath[];
  /** Reset your own world (fake cloud, ledger) before each path. */
  beforePath?: (path: FlowPath) => void | Promise<void>;
  /** Your own checks after each path: return (or throw) what is wrong. */
  check?: (run: PathRun) => CheckResult | Promise<CheckResult>;
  /** Longest wait for the engine to make the next call a path expects (a safety net: hangs are bugs). @default 5_000 */
  stepTimeoutMs?: number;
  /** Throw a PathTestError listing the violations. @default true */
  throws?: boolean;
}

export interface PathViolation {
  /** The path's name (its outcomes and status). */
  path: string;
  message: string;
}

export interface PathReport {
  flow: string;
  /** Paths replayed. */
  paths: number;
  exhaustive: boolean;
  /** Seed of the sample: pass it back as `seed` to replay the same paths. */
  seed: number;
  violations: PathViolation[];
  /** Wall time of enumeration and replay. */
  ms: number;
}

/** Thrown by `testFlowPaths` when a path breaks an invariant or a `check`. */
export class PathTestError extends TaskweaveError {
  constructor(readonly report: PathReport) {
    const shown = report.violations.slice(0, 20).map((v) => `  - ${v.message}\n    on path ${v.path}`);
    const more = report.violations.length > 20 ? [`  … and ${report.violations.length - 20} more`] : [];
    const replay = report.exhaustive ? '' : ` (sampled; replay with { seed: ${report.seed} })`;
    super(
      [
        `Expected every path of flow \`${report.flow}\` to keep the invariants, got ${report.violations.length} violation(s) on ${report.paths} path(s)${replay}:`,
        ...shown,
        ...more,
      ].join('\n'),
    );
  }
}

/**
 * Run the real engine along every path of `flow` (or a seeded sample of them) and check the invariants
 * on each: a task starts only after its dependencies succeeded; on failure everything that ran is
 * reverted exactly once, in reverse dependency order; tasks that never ran are left alone; the run ends
 * with the path's status. Failures are injected by wrapping each task (same names and structure); the
 * task's real execute and revert run whenever the path says they succeed. Every call is held until the
 * replay lets it go, so the engine follows the path's order exactly.
 *
 * @example
 * it('reverts every path of boot-server', async () => {
 *   const report = await testFlowPaths(bootServer, { inputs: { network: 'n1' }, check: () => cloud.leaks() });
 *   expect(report.paths).toBeGreaterThan(1);
 * });
 */
export async function testFlowPaths(flow: Flow, options: TestFlowPathsOptions = {}): Promise<PathReport> {
  const started = performance.now();
  const set = options.paths
    ? { paths: [...options.paths], exhaustive: false, seed: options.seed ?? 0 }
    : flowPaths(flow, options);
  let gate = new CallGate();
  const derived = gatedFlow(flow, () => gate);
  const violations: PathViolation[] = [];
  const make = options.make ?? (() => createEngine());
  for (const [i, path] of set.paths.entries()) {
    gate = new CallGate();
    await options.beforePath?.(path);
    const engine = make();
    try {
      const found = await replay(engine, derived, gate, path, `path-${i + 1}`, options);
      for (const message of found) violations.push({ path: path.name, message });
    } finally {
      gate.close();
      await engine.close();
    }
  }
  const report: PathReport = {
    flow: flow.name,
    paths: set.paths.length,
    exhaustive: set.exhaustive,
    seed: set.seed,
    violations,
    ms: Math.round(performance.now() - started),
  };
  if (violations.length > 0 && options.throws !== false) throw new PathTestError(report);
  return report;
}

async function replay(
  engine: Engine,
  flow: Flow,
  gate: CallGate,
  path: FlowPath,
  id: string,
  options: TestFlowPathsOptions,
): Promise<string[]> {
  const stepTimeoutMs = options.stepTimeoutMs ?? 5_000;
  const run = engine.start(flow, options.inputs ?? {}, {
    id,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  });
  let results: Record<string, unknown> | undefined;
  let error: Error | undefined;
  const ended = run.result.then(
    (value) => {
      results = value;
    },
    (reason: Error) => {
      error = reason;
    },
  );
  const held = (call: string) => {
    const [kind, task] = splitCall(call);
    return gate.pending().some((h) => h.kind === kind && h.task === task);
  };

  for (const [i, step] of path.steps.entries()) {
    const where = `at step ${i + 1} (${step.task}:${step.outcome})`;
    const expected = path.inFlight[i] ?? [];
    for (const call of expected) {
      const [kind, task] = splitCall(call);
      const outcome = await within(
        stepTimeoutMs,
        gate.whenHeld(kind, task).then(() => 'ok' as const),
        ended,
      );
      if (outcome !== 'ok') {
        const why =
          outcome === 'ended'
            ? `ended the run ${run.status}`
            : `did not ${kind} it within ${stepTimeoutMs} ms`;
        return [`${where}: expected the engine to ${kind} \`${task}\`, but it ${why}`];
      }
    }
    const extra = gate.pending().find((h) => !expected.includes(`${h.kind}:${h.task}`));
    if (extra)
      return [
        `${where}: the engine started ${extra.kind} of \`${extra.task}\`, which the path does not expect yet`,
      ];
    if (!expected.includes(callOf(step)) && !held(callOf(step)))
      return [`${where}: the path's call is not in flight`];
    const [kind] = splitCall(callOf(step));
    const fails = step.outcome === 'failure' || step.outcome === 'revert-failure';
    const result = await within(stepTimeoutMs, gate.release(kind, step.task, fails ? 'fail' : 'run'));
    if (result === 'timeout' || result === 'ended')
      return [`${where}: ${kind} of \`${step.task}\` did not finish within ${stepTimeoutMs} ms`];
    if (!fails && !result.ok)
      return [
        `${where}: ${kind} of \`${step.task}\` threw (${result.error}) where the path expects it to succeed`,
      ];
  }
  const last = await within(
    stepTimeoutMs,
    Promise.race([ended, gate.whenAnyHeld().then(() => 'extra' as const)]),
  );
  if (last === 'extra') {
    const h = gate.pending()[0]!;
    return [
      `after the last step: the engine started ${h.kind} of \`${h.task}\`, which the path does not expect`,
    ];
  }
  if (last === 'timeout')
    return [`after the last step: the run did not end within ${stepTimeoutMs} ms (status ${run.status})`];

  const violations = checkTrace(flow, gate.trace, run.status);
  if (run.status !== path.status)
    violations.push(`the run ended ${run.status}, the path ends ${path.status}`);
  try {
    const custom = await options.check?.({
      path,
      status: run.status,
      results,
      error,
      trace: [...gate.trace],
    });
    if (typeof custom === 'string') violations.push(custom);
    else if (custom) violations.push(...custom);
  } catch (failure) {
    violations.push(`check: ${failure instanceof Error ? failure.message : String(failure)}`);
  }
  return violations;
}

const callOf = (step: PathStep) =>
  taskActorId(
    step.outcome === 'success' || step.outcome === 'failure'
      ? TASK_ACTORS.RUNNING.prefix
      : TASK_ACTORS.REVERTING.prefix,
    step.task,
  );

/** `promise`'s value, `'ended'` if `stop` settles first, or `'timeout'`. */
async function within<T>(
  ms: number,
  promise: Promise<T>,
  stop?: Promise<unknown>,
): Promise<T | 'timeout' | 'ended'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    const racers: Promise<T | 'timeout' | 'ended'>[] = [promise, timeout];
    if (stop) racers.push(stop.then(() => 'ended' as const));
    return await Promise.race(racers);
  } finally {
    clearTimeout(timer);
  }
}

import type { RunInfo } from '../engine/run-info.js';
import { relative } from '../engine/time-text.js';
import type { RunMeta } from '../store/store.js';
import { type Output, paintState, table } from './output.js';

/** A task as `runs show --json` prints it. */
export interface TaskView {
  state: string;
  attempt: number;
  startedAt?: number;
  finishedAt?: number;
  error?: { name: string; message: string; stack?: string };
}

/** `runs show --json`: stable keys for scripts. */
export interface RunView {
  id: string;
  flow: string;
  version: string;
  status: string;
  createdAt: number;
  updatedAt: number;
  owner?: string;
  tasks: Record<string, TaskView>;
  failures: { task: string; name: string; message: string }[];
}

type TaskInfo = RunInfo['tasks'][string] & { startedAt?: number; finishedAt?: number };

export function runView(info: RunInfo): RunView {
  const tasks: Record<string, TaskView> = {};
  // In the flow's order (the catalog lists tasks topologically), not the store's.
  const order = info.flow?.tasks.map((t) => t.name) ?? [];
  const entries = (Object.entries(info.tasks) as [string, TaskInfo][]).sort(
    ([a], [b]) => rank(order, a) - rank(order, b),
  );
  for (const [name, task] of entries) {
    tasks[name] = {
      state: task.state,
      attempt: task.attempt,
      ...(task.startedAt !== undefined ? { startedAt: task.startedAt } : {}),
      ...(task.finishedAt !== undefined ? { finishedAt: task.finishedAt } : {}),
      ...(task.error
        ? {
            error: {
              name: task.error.name,
              message: task.error.message,
              ...(task.error.stack ? { stack: task.error.stack } : {}),
            },
          }
        : {}),
    };
  }
  const { meta } = info;
  return {
    id: meta.id,
    flow: meta.flow,
    version: meta.version,
    status: meta.status,
    createdAt: meta.createdAt,
    updatedAt: meta.updatedAt,
    ...(meta.owner !== undefined ? { owner: meta.owner } : {}),
    tasks,
    failures: info.failures.map(({ task, error }) => ({ task, name: error.name, message: error.message })),
  };
}

/** `runs ls --json` entries. */
export function metaView(meta: RunMeta & { corrupt?: string }) {
  if (meta.corrupt !== undefined) return { id: meta.id, corrupt: meta.corrupt };
  return {
    id: meta.id,
    flow: meta.flow,
    status: meta.status,
    createdAt: meta.createdAt,
    updatedAt: meta.updatedAt,
    ...(meta.owner !== undefined ? { owner: meta.owner } : {}),
  };
}

export function printRunList(
  out: Output,
  metas: readonly (RunMeta & { corrupt?: string })[],
  now: number,
): void {
  if (metas.length === 0) {
    out.line('No runs.');
    return;
  }
  const s = out.style;
  const rows = metas.map((m) =>
    m.corrupt !== undefined
      ? [m.id, '?', s.red('CORRUPT'), '', '', s.red(m.corrupt)]
      : [
          m.id,
          m.flow,
          paintState(s, m.status),
          relative(m.createdAt, now),
          relative(m.updatedAt, now),
          m.owner ?? '',
        ],
  );
  out.line(table(['ID', 'FLOW', 'STATUS', 'CREATED', 'UPDATED', 'OWNER'], rows, s));
  const counts = new Map<string, number>();
  for (const m of metas)
    counts.set(
      m.corrupt !== undefined ? 'CORRUPT' : m.status,
      (counts.get(m.corrupt !== undefined ? 'CORRUPT' : m.status) ?? 0) + 1,
    );
  out.line(
    s.dim(
      `${metas.length} run${metas.length === 1 ? '' : 's'}: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}`,
    ),
  );
}

export function printRun(out: Output, view: RunView, now: number, verbose: boolean): void {
  const s = out.style;
  out.line(
    `${s.bold(`run ${view.id}`)}  ${view.flow} (version ${view.version})  ${paintState(s, view.status)}`,
  );
  out.line(
    s.dim(
      `created ${relative(view.createdAt, now)}, last change ${relative(view.updatedAt, now)}${view.owner ? `, held by ${view.owner}` : ''}`,
    ),
  );
  out.line();
  const rows = Object.entries(view.tasks).map(([name, t]) => [
    name,
    paintState(s, t.state),
    String(t.attempt),
    t.startedAt !== undefined ? relative(t.startedAt, now) : '',
    t.finishedAt !== undefined ? relative(t.finishedAt, now) : '',
    t.error ? s.red(`${t.error.name}: ${firstLine(t.error.message)}`) : '',
  ]);
  out.line(table(['TASK', 'STATE', 'ATTEMPT', 'STARTED', 'FINISHED', 'ERROR'], rows, s));
  if (verbose) {
    for (const [name, t] of Object.entries(view.tasks)) {
      if (t.error?.stack) out.line(`\n${s.bold(name)}\n${s.dim(t.error.stack)}`);
    }
  }
}

export function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

function rank(order: readonly string[], name: string): number {
  const i = order.indexOf(name);
  return i < 0 ? order.length : i;
}

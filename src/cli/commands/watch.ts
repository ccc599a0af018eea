import { createLogUpdate } from 'log-update';
import { relative } from '../../engine/time-text.js';
import type { RunEvent } from '../../store/run-history.js';
import { EXIT_FAILED, EXIT_OK, runNotFound } from '../cli-errors.js';
import type { CommandContext } from '../context.js';
import { type Output, paintState, table } from '../output.js';
import { runView } from '../run-views.js';

/** A stored event, or a progress report (progress is not history: it is only seen live). */
export type RunEventLike = RunEvent & { progress?: number };

/** `runs history` for people: one line per event. */
export function historyLines(out: Output, events: readonly RunEventLike[]): string[] {
  const s = out.style;
  const width = Math.max(4, ...events.map((e) => (e.task ?? '').length));
  return events.map((e) => {
    const time = new Date(e.at).toISOString().slice(11, 23);
    const who = e.task === undefined ? s.bold('run'.padEnd(width)) : e.task.padEnd(width);
    const attempt = e.attempt !== undefined && e.task !== undefined ? s.dim(` attempt ${e.attempt}`) : '';
    const error = e.error ? ` ${s.red(`${e.error.name}: ${e.error.message.split('\n')[0]}`)}` : '';
    if (e.progress !== undefined)
      return `${'    '}  ${time}  ${who}  ${s.dim(`progress ${Math.round(e.progress * 100)}%`)}`;
    return `${String(e.seq).padStart(4)}  ${time}  ${who}  ${paintState(s, e.state)}${attempt}${error}`;
  });
}

interface TaskLine {
  state: string;
  attempt: number;
  progress?: number;
  error?: string;
  since?: number;
}

const BAR = 20;

function bar(fraction: number): string {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * BAR);
  return `[${'█'.repeat(filled)}${'░'.repeat(BAR - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%`;
}

function frame(
  out: Output,
  id: string,
  flow: string,
  status: string,
  tasks: Map<string, TaskLine>,
  now: number,
): string {
  const s = out.style;
  const rows = [...tasks].map(([name, t]) => [
    name,
    paintState(s, t.state),
    String(t.attempt),
    t.progress !== undefined && t.state === 'RUNNING'
      ? bar(t.progress)
      : t.since !== undefined && t.state === 'RUNNING'
        ? s.dim(`started ${relative(t.since, now)}`)
        : '',
    t.error ? s.red(t.error) : '',
  ]);
  return `${s.bold(`run ${id}`)}  ${flow}  ${paintState(s, status)}\n${table(['TASK', 'STATE', 'ATTEMPT', 'PROGRESS', 'ERROR'], rows, s)}`;
}

/**
 * `runs watch <id>`: past events first, then live ones, from any process, until the run ends.
 * On a terminal the view is redrawn in place (log-update); piped, it prints one line per event.
 */
export async function watchRun(ctx: CommandContext, id: string): Promise<number> {
  const engine = (await ctx.connection()).engine();
  const info = await engine.get(id);
  if (!info) throw runNotFound(id);
  const tasks = new Map<string, TaskLine>();
  // In the flow's order (the catalog lists tasks topologically).
  const names = info.flow?.tasks.map((t) => t.name) ?? Object.keys(info.tasks);
  for (const name of names) tasks.set(name, { state: 'PENDING', attempt: info.tasks[name]?.attempt ?? 0 });
  let status = 'PENDING';
  // A terminal that reports 0 rows (a pty nobody sized: `script`, some CI runners) would be shown
  // nothing by log-update, which clips to the height: there, a line per event as when piped.
  const live = !ctx.out.json && process.stdout.isTTY === true && process.stdout.rows !== 0;
  const draw = live ? createLogUpdate(process.stdout) : undefined;
  const render = () => draw?.(frame(ctx.out, id, info.meta.flow, status, tasks, ctx.now()));
  const ticker = live ? setInterval(render, 500) : undefined;
  const apply = (e: RunEventLike) => {
    if (e.task === undefined) status = e.state;
    else {
      const line = tasks.get(e.task) ?? { state: 'PENDING', attempt: 0 };
      if (e.progress !== undefined) line.progress = e.progress;
      else {
        line.state = e.state;
        if (e.attempt !== undefined) line.attempt = e.attempt;
        if (e.state === 'RUNNING') {
          line.since = e.at;
          delete line.progress;
        }
        if (e.error) line.error = `${e.error.name}: ${e.error.message.split('\n')[0]}`;
      }
      tasks.set(e.task, line);
    }
    if (live) render();
    else if (!ctx.out.json) ctx.out.line(historyLines(ctx.out, [e])[0]);
  };
  // Progress is published, not stored (see store/progress.ts): only a live watcher sees it.
  const stopProgress = engine.store.listenProgress?.(id, (report) =>
    apply({ seq: 0, at: report.at, task: report.task, state: 'RUNNING', progress: report.fraction }),
  );
  try {
    const stream = engine.watch(id)[Symbol.asyncIterator]();
    const aborted = new Promise<'abort'>((resolve) =>
      ctx.signal.addEventListener('abort', () => resolve('abort'), { once: true }),
    );
    for (;;) {
      const next = await Promise.race([stream.next(), aborted]);
      if (next === 'abort') {
        await stream.return?.();
        break;
      }
      if (next.done) break;
      apply(next.value);
    }
  } finally {
    clearInterval(ticker);
    stopProgress?.();
    draw?.done();
  }
  const final = await engine.get(id);
  const finalStatus = final?.meta.status ?? status;
  if (ctx.out.json && final) ctx.out.data(runView(final));
  else ctx.out.line(`Run ${id} ended ${paintState(ctx.out.style, finalStatus)}.`);
  if (ctx.signal.aborted) return EXIT_FAILED;
  return finalStatus === 'SUCCESS' ? EXIT_OK : EXIT_FAILED;
}

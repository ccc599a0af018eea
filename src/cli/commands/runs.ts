import { Command } from 'commander';
import type { Engine } from '../../engine/engine.js';
import { relative } from '../../engine/time-text.js';
import { FlowVersionMismatchError } from '../../errors.js';
import type { Flow } from '../../flow/types.js';
import type { RunEvent } from '../../store/run-history.js';
import { isFinished, RUN_STATUSES, type RunMeta } from '../../store/store.js';
import { action } from '../action.js';
import { CommandFailedError, EXIT_FAILED, EXIT_OK, runNotFound, UsageError } from '../cli-errors.js';
import { type CommandContext, oneOf } from '../context.js';
import { parseCount, parseDuration } from '../duration.js';
import { loadFlows } from '../load-flows.js';
import { paintState } from '../output.js';
import { metaView, printRun, printRunList, runView } from '../run-views.js';
import { explainWithJob } from './explain-job.js';
import { historyLines, watchRun } from './watch.js';

export function runsCommand(): Command {
  const runs = new Command('runs').description('list, inspect, watch and steer runs');
  runs
    .command('ls')
    .description('list runs, newest first')
    .option('--status <status>', `only runs in this status (${RUN_STATUSES.join(', ')})`)
    .option('--flow <name>', 'only runs of this flow')
    .option('--limit <n>', 'at most this many runs (default: 100)')
    .action(
      action(async (ctx, opts: { status?: string; flow?: string; limit?: string }) => {
        const status = oneOf(opts.status, RUN_STATUSES, '--status');
        const limit = opts.limit === undefined ? 100 : parseCount(opts.limit, '--limit');
        const { store } = await ctx.connection();
        const metas = (await store.list({
          ...(status ? { status } : {}),
          ...(opts.flow ? { flow: opts.flow } : {}),
          limit,
        })) as (RunMeta & { corrupt?: string })[];
        if (ctx.out.json) ctx.out.data(metas.map(metaView));
        else printRunList(ctx.out, metas, ctx.now());
      }),
    );
  runs
    .command('show <id>')
    .description("a run's status and its tasks' states, attempts, times and errors")
    .action(
      action(async (ctx, id: string) => {
        const engine = (await ctx.connection()).engine();
        const info = await engine.get(id);
        if (!info) throw runNotFound(id);
        const view = runView(info);
        if (ctx.out.json) ctx.out.data(view);
        else printRun(ctx.out, view, ctx.now(), ctx.globals.verbose === true);
      }),
    );
  runs
    .command('explain <id>')
    .description('what the run waits on, in sentences (and the job lease holding it, if any)')
    .action(
      action(async (ctx, id: string) => {
        const connection = await ctx.connection();
        const explained = await explainWithJob(connection.engine(), connection.board(), id, ctx.now());
        if (ctx.out.json) ctx.out.data(explained);
        else ctx.out.line(explained.text);
      }),
    );
  runs
    .command('history <id>')
    .description("the run's stored events, oldest first")
    .action(
      action(async (ctx, id: string) => {
        const engine = (await ctx.connection()).engine();
        const events = await historyOf(engine, id);
        if (ctx.out.json) ctx.out.data(events);
        else for (const line of historyLines(ctx.out, events)) ctx.out.line(line);
      }),
    );
  runs
    .command('watch <id>')
    .description('a live view of the run until it ends; exits 0 on SUCCESS, 1 otherwise')
    .action(action(async (ctx, id: string) => watchRun(ctx, id)));
  for (const [verb, what] of [
    ['resume', 'take the run over and continue it'],
    ['revert', 'take the run over and roll back everything that ran'],
    ['cancel', 'stop the run and revert what ran (a job is cancelled on its board)'],
  ] as const) {
    runs
      .command(`${verb} <id>`)
      .description(what)
      .option('--flows <module>', 'JS or TS module exporting the flows (needed to run their tasks)')
      .option('--force', 'take the run over even though another engine holds it')
      .action(
        action(async (ctx, id: string, opts: { flows?: string; force?: boolean }) =>
          steer(ctx, verb, id, opts),
        ),
      );
  }
  runs
    .command('purge')
    .description('delete finished runs (SUCCESS, REVERTED, FAILURE) older than a duration')
    .requiredOption('--older-than <duration>', 'e.g. 7d, 12h, 30m')
    .action(
      action(async (ctx, opts: { olderThan: string }) => {
        const olderThanMs = parseDuration(opts.olderThan, '--older-than');
        const deleted = await (await ctx.connection()).store.purge({ olderThanMs });
        if (ctx.out.json) ctx.out.data({ deleted });
        else
          ctx.out.line(
            `Deleted ${deleted} finished run${deleted === 1 ? '' : 's'} older than ${opts.olderThan}.`,
          );
      }),
    );
  return runs;
}

export async function historyOf(engine: Engine, id: string): Promise<RunEvent[]> {
  if (!(await engine.store.load(id))) throw runNotFound(id);
  return engine.history(id);
}

/** resume / revert / cancel a stored run from the command line. */
async function steer(
  ctx: CommandContext,
  verb: 'resume' | 'revert' | 'cancel',
  id: string,
  opts: { flows?: string; force?: boolean },
): Promise<number> {
  const connection = await ctx.connection();
  const stored = await connection.store.load(id);
  if (!stored) throw runNotFound(id);
  const { meta } = stored;
  if (verb === 'cancel') {
    if (isFinished(meta.status)) {
      throw new CommandFailedError(
        `Run ${id} already ended ${meta.status}; nothing to cancel. To roll back what it did: taskweave runs revert ${id} --flows <module>.`,
      );
    }
    // A job's run is cancelled through its board: its conductor sees it on its next renewal and reverts.
    const job = await connection.board().get(id);
    if (job && (job.state === 'CLAIMED' || job.state === 'UNCLAIMED')) {
      await connection.board().cancel(id);
      const message = `Job ${id} cancelled${job.owner ? `: conductor ${job.owner} reverts its run at its next lease renewal` : ''}.`;
      if (ctx.out.json) ctx.out.data({ id, job: 'CANCELLED' });
      else ctx.out.line(message);
      return EXIT_OK;
    }
  }
  if (!opts.flows) {
    throw new UsageError(
      `Expected --flows <module> for runs ${verb}: the engine needs the flow's tasks to ${verb} a run.`,
    );
  }
  if (!isFinished(meta.status) && meta.status !== 'SUSPENDED' && meta.owner && !opts.force) {
    throw new CommandFailedError(
      `Run ${id} is ${meta.status}, held by ${meta.owner} (last stored change ${relative(meta.updatedAt, ctx.now())}). If that engine is gone, pass --force to take the run over; if it is alive, it loses the run at its next write.`,
    );
  }
  const { flows } = await loadFlows(opts.flows);
  // Checked here, so that a wrong module is one line naming what it exports, not the engine's advice
  // to register the flow in createEngine (which a command line user cannot act on).
  if (!flows.some((f) => f.name === meta.flow)) {
    throw new CommandFailedError(
      `Expected ${opts.flows} to export flow \`${meta.flow}\` (the flow of run ${id}), got ${flows.map((f) => `\`${f.name}\``).join(', ')}. Pass the module that defines it.`,
    );
  }
  const engine = connection.engine(flows as Flow[]);
  const s = ctx.out.style;
  if (verb === 'resume') {
    const run = await engine.resume(id);
    if (!ctx.out.json) {
      run.on('task', (e) =>
        ctx.out.line(
          `  ${e.task.padEnd(20)} ${paintState(s, e.state)}${e.error ? ` ${s.red(e.error.message)}` : ''}`,
        ),
      );
    }
    const onAbort = () => void run.suspend();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const outcome = await run.result.then(
      () => undefined,
      (error: Error) => error,
    );
    ctx.signal.removeEventListener('abort', onAbort);
    return finish(ctx, id, run.status, outcome);
  }
  const outcome = await engine.revert(id).then(
    () => undefined,
    (error: Error) => error,
  );
  // The module's flow has another structure than the stored run's: nothing was done, so no "ended".
  if (outcome instanceof FlowVersionMismatchError) throw outcome;
  const info = await engine.get(id);
  return finish(ctx, id, info?.meta.status ?? 'UNKNOWN', outcome);
}

function finish(ctx: CommandContext, id: string, status: string, error: Error | undefined): number {
  if (ctx.out.json)
    ctx.out.data({ id, status, ...(error ? { error: { name: error.name, message: error.message } } : {}) });
  else
    ctx.out.line(
      `Run ${id} ended ${paintState(ctx.out.style, status)}${error ? `: ${error.message.split('\n')[0]!.replace(/\.$/, '')}` : ''}.`,
    );
  return status === 'SUCCESS' || (status === 'REVERTED' && error === undefined) ? EXIT_OK : EXIT_FAILED;
}

import { Command } from 'commander';
import { relative } from '../../engine/time-text.js';
import { explainJob } from '../../jobs/explain-job.js';
import { JOB_STATES, type Job, type JobState } from '../../jobs/job-board.js';
import { action } from '../action.js';
import { CommandFailedError, UsageError } from '../cli-errors.js';
import { oneOf } from '../context.js';
import { parseCount, parseDuration } from '../duration.js';
import { type Output, paintState, table } from '../output.js';

function jobNotFound(id: string): CommandFailedError {
  return new CommandFailedError(
    `No job \`${id}\` on this board. Check the id, --redis and --prefix (taskweave jobs ls).`,
  );
}

function printJobs(out: Output, jobs: readonly Job[], now: number): void {
  if (jobs.length === 0) {
    out.line('No jobs.');
    return;
  }
  const s = out.style;
  const rows = jobs.map((j) => [
    j.id,
    j.flow,
    paintState(s, j.state),
    String(j.attempts),
    String(j.takeovers),
    j.owner ?? '',
    j.state === 'CLAIMED' && j.leaseUntil !== undefined ? relative(j.leaseUntil, now) : '',
    relative(j.updatedAt, now),
  ]);
  out.line(table(['ID', 'FLOW', 'STATE', 'ATTEMPTS', 'TAKEOVERS', 'OWNER', 'LEASE', 'UPDATED'], rows, s));
}

interface PurgingBoard {
  purge?(options: { olderThanMs: number; state?: JobState | readonly JobState[] }): Promise<number>;
}

export function jobsCommand(): Command {
  const jobs = new Command('jobs').description('list, post and steer jobs on the job board');
  jobs
    .command('ls')
    .description('list jobs, newest first, with counts by state')
    .option('--state <state>', `only jobs in this state (${JOB_STATES.join(', ')})`)
    .option('--limit <n>', 'at most this many jobs (default: 100)')
    .action(
      action(async (ctx, opts: { state?: string; limit?: string }) => {
        const state = oneOf(opts.state, JOB_STATES, '--state');
        const limit = opts.limit === undefined ? 100 : parseCount(opts.limit, '--limit');
        const board = (await ctx.connection()).board();
        const list = await board.list({ ...(state ? { state } : {}), limit });
        if (ctx.out.json) {
          ctx.out.data(list);
          return;
        }
        printJobs(ctx.out, list, ctx.now());
        const counts = await board.counts();
        ctx.out.line(ctx.out.style.dim(JOB_STATES.map((s) => `${counts[s]} ${s}`).join(', ')));
      }),
    );
  jobs
    .command('show <id>')
    .description("a job's record and what it waits on")
    .action(
      action(async (ctx, id: string) => {
        const job = await (await ctx.connection()).board().get(id);
        if (!job) throw jobNotFound(id);
        if (ctx.out.json) {
          ctx.out.data(job);
          return;
        }
        const s = ctx.out.style;
        const now = ctx.now();
        ctx.out.line(`${s.bold(`job ${job.id}`)}  ${job.flow}  ${paintState(s, job.state)}`);
        ctx.out.line(
          s.dim(
            `posted ${relative(job.createdAt, now)}, last change ${relative(job.updatedAt, now)}, priority ${job.priority}, attempts ${job.attempts}, takeovers ${job.takeovers}`,
          ),
        );
        ctx.out.line(explainJob(job, now).text);
        ctx.out.line(`inputs: ${JSON.stringify(job.inputs)}`);
        if (job.results) ctx.out.line(`results: ${JSON.stringify(job.results)}`);
      }),
    );
  jobs
    .command('post <flow>')
    .description('post a job for conductors to run (idempotent by --id)')
    .option('--inputs <json>', 'run inputs as a JSON object (default: {})')
    .option('--id <id>', 'job and run id (default: a random UUID)')
    .option('--priority <n>', 'higher is claimed first (default: 0)')
    .action(
      action(async (ctx, flow: string, opts: { inputs?: string; id?: string; priority?: string }) => {
        let inputs: Record<string, unknown> = {};
        if (opts.inputs !== undefined) {
          try {
            inputs = JSON.parse(opts.inputs) as Record<string, unknown>;
          } catch (error) {
            throw new UsageError(
              `Expected --inputs to be a JSON object, got \`${opts.inputs}\` (${(error as Error).message}).`,
            );
          }
          if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
            throw new UsageError(`Expected --inputs to be a JSON object, got \`${opts.inputs}\`.`);
          }
        }
        const priority = opts.priority === undefined ? undefined : Number(opts.priority);
        if (priority !== undefined && !Number.isFinite(priority)) {
          throw new UsageError(`Expected --priority to be a number, got \`${opts.priority}\`.`);
        }
        const id = await (await ctx.connection()).board().post({
          flow,
          inputs,
          ...(opts.id !== undefined ? { id: opts.id } : {}),
          ...(priority !== undefined ? { priority } : {}),
        });
        if (ctx.out.json) ctx.out.data({ id });
        else ctx.out.line(`Posted job ${id} (${flow}).`);
      }),
    );
  jobs
    .command('cancel <id>')
    .description('cancel a job; a conductor running it reverts its run at its next renewal')
    .action(
      action(async (ctx, id: string) => {
        const board = (await ctx.connection()).board();
        const job = await board.get(id);
        if (!job) throw jobNotFound(id);
        const cancelled = await board.cancel(id);
        if (ctx.out.json) ctx.out.data({ id, cancelled });
        else if (cancelled) ctx.out.line(`Cancelled job ${id}.`);
        if (!cancelled) throw new CommandFailedError(`Job ${id} is already ${job.state}; nothing to cancel.`);
      }),
    );
  jobs
    .command('retry <id>')
    .description('put a FAILED or CANCELLED job back on the board, with its counts reset')
    .action(
      action(async (ctx, id: string) => {
        const board = (await ctx.connection()).board();
        const job = await board.get(id);
        if (!job) throw jobNotFound(id);
        const retried = await board.retry(id);
        if (ctx.out.json) ctx.out.data({ id, retried });
        else if (retried) ctx.out.line(`Job ${id} is waiting for a conductor again.`);
        if (!retried)
          throw new CommandFailedError(
            `Job ${id} is ${job.state}; only FAILED or CANCELLED jobs can be retried.`,
          );
      }),
    );
  jobs
    .command('purge')
    .description('delete finished jobs (COMPLETE, FAILED, CANCELLED) older than a duration')
    .requiredOption('--older-than <duration>', 'e.g. 7d, 12h, 30m')
    .option('--state <state>', 'only jobs in this final state')
    .action(
      action(async (ctx, opts: { olderThan: string; state?: string }) => {
        const olderThanMs = parseDuration(opts.olderThan, '--older-than');
        const state = oneOf(opts.state, ['COMPLETE', 'FAILED', 'CANCELLED'] as const, '--state');
        const board = (await ctx.connection()).board() as ReturnType<
          Awaited<ReturnType<typeof ctx.connection>>['board']
        > &
          PurgingBoard;
        if (!board.purge)
          throw new CommandFailedError(
            'This job board cannot purge jobs (board.purge is missing in this build).',
          );
        const deleted = await board.purge({ olderThanMs, ...(state ? { state } : {}) });
        if (ctx.out.json) ctx.out.data({ deleted });
        else
          ctx.out.line(
            `Deleted ${deleted} finished job${deleted === 1 ? '' : 's'} older than ${opts.olderThan}.`,
          );
      }),
    );
  return jobs;
}

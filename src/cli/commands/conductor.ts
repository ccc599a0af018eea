import { Command } from 'commander';
import { createConductor } from '../../jobs/conductor.js';
import { action } from '../action.js';
import { parseCount } from '../duration.js';
import { loadFlows } from '../load-flows.js';

export function conductorCommand(): Command {
  return new Command('conductor')
    .description('claim jobs from the board and run them, until SIGINT / SIGTERM (then drain)')
    .argument('<module>', 'JS or TS module exporting the flows to run')
    .option('--concurrency <n>', 'jobs run at once (default: 8)')
    .option('--lease-ms <ms>', 'lease of a claim; also the failover time (default: 10000)')
    .action(
      action(async (ctx, modulePath: string, opts: { concurrency?: string; leaseMs?: string }) => {
        const concurrency =
          opts.concurrency === undefined ? 8 : parseCount(opts.concurrency, '--concurrency');
        const leaseMs = opts.leaseMs === undefined ? 10_000 : parseCount(opts.leaseMs, '--lease-ms');
        const { flows } = await loadFlows(modulePath);
        const connection = await ctx.connection({ longRunning: true });
        const engine = connection.engine(flows);
        const conductor = createConductor({ board: connection.board(), engine, concurrency, leaseMs });
        const log = (text: string) =>
          ctx.out.json
            ? ctx.out.line(JSON.stringify({ at: Date.now(), event: text }))
            : ctx.out.line(`${new Date().toISOString()}  ${text}`);
        conductor.on('claimed', (e) =>
          log(`claimed ${e.id} (${e.flow})${e.takeover ? ' — a takeover' : ''}`),
        );
        conductor.on('completed', (e) => log(`completed ${e.id}`));
        conductor.on('failed', (e) => log(`failed ${e.id}: ${e.error.message.split('\n')[0]} → ${e.state}`));
        conductor.on('lost', (e) => log(`lost ${e.id}`));
        conductor.on('released', (e) => log(`released ${e.id} (${e.reason})`));
        conductor.on('cancelled', (e) => log(`cancelled ${e.id}`));
        conductor.on('backoff', (e) =>
          log(
            `Redis trouble during ${e.during}: ${e.error.message.split('\n')[0]}; retrying in ${e.delayMs} ms`,
          ),
        );
        await conductor.start();
        ctx.out.note(
          `conductor ${engine.id} running ${flows.map((f) => f.name).join(', ')} from ${connection.prefix} (concurrency ${concurrency}, lease ${leaseMs} ms); Ctrl-C drains and stops`,
        );
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        ctx.out.note('stopping: finishing running jobs (up to 10 s), then suspending the rest');
        await conductor.stop({ drain: true, timeoutMs: 10_000 });
      }),
    );
}

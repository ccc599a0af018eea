import { Command } from 'commander';
import { createWorker } from '../../index.js';
import { action } from '../action.js';
import { UsageError } from '../cli-errors.js';
import { parseCount } from '../duration.js';
import { loadFlows } from '../load-flows.js';

/** `taskweave worker <module>`: execute the tasks of distributed runs until SIGINT / SIGTERM. */
export function workerCommand(): Command {
  return new Command('worker')
    .description(
      'execute tasks of distributed runs (engines with execution: distributed), until SIGINT / SIGTERM',
    )
    .argument('<module>', 'JS or TS module exporting the flows whose tasks to run')
    .option('--queues <a,b>', 'queues to take tasks from (default: default)')
    .option('--concurrency <n>', 'tasks held at once (default: 8)')
    .action(
      action(async (ctx, modulePath: string, opts: { queues?: string; concurrency?: string }) => {
        const queues = opts.queues?.split(',').map((q) => q.trim()) ?? ['default'];
        if (queues.some((q) => q === ''))
          throw new UsageError(`Expected --queues to be names separated by commas, got \`${opts.queues}\`.`);
        const concurrency =
          opts.concurrency === undefined ? 8 : parseCount(opts.concurrency, '--concurrency');
        const { flows } = await loadFlows(modulePath);
        const connection = await ctx.connection({ longRunning: true });
        const worker = createWorker({ store: connection.store, flows, queues, concurrency });
        const log = (text: string) => ctx.out.note(`${new Date().toISOString()}  ${text}`);
        worker.on('error', (error) => log(`error (the task comes back): ${error.message.split('\n')[0]}`));
        worker.on('dropped', (e) =>
          log(`dropped ${e.run ?? '?'}:${e.task ?? '?'} from ${e.queue}: ${e.reason}`),
        );
        await worker.start();
        log(
          `worker ${worker.id} taking ${queues.join(', ')} for ${flows.map((f) => f.name).join(', ')} (concurrency ${concurrency}); Ctrl-C stops`,
        );
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        await worker.close();
      }),
    );
}

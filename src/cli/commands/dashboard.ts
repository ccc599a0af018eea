import { Command } from 'commander';
import { createDashboard, DashboardOptionError } from '../../dashboard/dashboard.js';
import { action } from '../action.js';
import { CommandFailedError, UsageError } from '../cli-errors.js';
import { parseCount } from '../duration.js';
import { loadFlows } from '../load-flows.js';

export function dashboardCommand(): Command {
  return new Command('dashboard')
    .description('serve the live dashboard of runs and jobs (offline: nothing is fetched from the internet)')
    .option('--port <port>', 'port (default: 8085)')
    .option('--host <host>', 'address to bind; anything but loopback needs --token (default: 127.0.0.1)')
    .option(
      '--token <token>',
      'require `Authorization: Bearer <token>` (or ?token=) on every request (default: TASKWEAVE_DASHBOARD_TOKEN)',
    )
    .option('--flows <module>', 'JS or TS module exporting flows: enables resume / revert / cancel')
    .action(
      action(async (ctx, opts: { port?: string; host?: string; token?: string; flows?: string }) => {
        const port = opts.port === undefined ? 8085 : parseCount(opts.port, '--port', 0);
        const host = opts.host ?? '127.0.0.1';
        const token = opts.token ?? process.env.TASKWEAVE_DASHBOARD_TOKEN;
        const flows = opts.flows ? (await loadFlows(opts.flows)).flows : undefined;
        const connection = await ctx.connection({ longRunning: true });
        let dashboard: Awaited<ReturnType<typeof createDashboard>>;
        try {
          dashboard = await createDashboard({
            store: connection.store,
            board: connection.board(),
            port,
            host,
            ...(token ? { token } : {}),
            ...(flows ? { flows } : {}),
          });
        } catch (error) {
          if (error instanceof DashboardOptionError) throw new UsageError(error.message);
          if ((error as { code?: string }).code === 'EADDRINUSE')
            // The command line was right; the machine said no: a failure (exit 1), not a usage error.
            throw new CommandFailedError(`Port ${port} on ${host} is in use; pass --port <another>.`, {
              cause: error,
            });
          throw error;
        }
        ctx.out.note(
          `taskweave dashboard on ${dashboard.url}${flows ? '' : ' (read-only: pass --flows <module> to resume, revert or cancel)'}`,
        );
        if (ctx.out.json) ctx.out.data({ url: dashboard.url });
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        await dashboard.close();
      }),
    );
}

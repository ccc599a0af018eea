import type { Command } from 'commander';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './cli-errors.js';
import { type CommandContext, makeContext } from './context.js';

let code = EXIT_OK;
/** The running command's controller: aborted on SIGINT / SIGTERM, and when stdout's reader goes away. */
let current: AbortController | undefined;
let watchingStdout = false;

/**
 * `taskweave runs watch x | head -3`: once the reader has gone, every write to stdout fails with EPIPE,
 * which Node reports as an unhandled 'error' event (a stack trace, exit 1). Like a Unix tool killed by
 * SIGPIPE, the command stops instead: its signal is aborted (a watch ends, a conductor drains) and
 * the failed writes are dropped. Other stdout errors stay fatal.
 */
function stopWhenStdoutCloses(): void {
  if (watchingStdout) return;
  watchingStdout = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    current?.abort();
  });
}

/** The exit code the last command set. */
export const exitCode = () => code;
export const resetExitCode = () => {
  code = EXIT_OK;
};

/**
 * Wrap a command's action: it gets a context, the connection is closed when it ends, and an error
 * becomes one line on stderr (with its stack under --verbose) and exit code 1 (2 for usage errors).
 */
export function action<A extends unknown[]>(fn: (ctx: CommandContext, ...args: A) => Promise<unknown>) {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const controller = new AbortController();
    current = controller;
    stopWhenStdoutCloses();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    let ctx: ReturnType<typeof makeContext> | undefined;
    try {
      ctx = makeContext(command, controller.signal);
      const result = await fn(ctx, ...(args.slice(0, -1) as A));
      code = typeof result === 'number' ? result : EXIT_OK;
    } catch (error) {
      code = report(error, command.optsWithGlobals().verbose === true);
    } finally {
      current = undefined;
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await ctx?.close().catch(() => {});
    }
  };
}

export function report(error: unknown, verbose: boolean): number {
  const usage = error instanceof UsageError;
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`taskweave: ${message.split('\n')[0]}\n`);
  if (verbose && error instanceof Error) {
    let e: unknown = error;
    while (e instanceof Error) {
      process.stderr.write(`${e.stack ?? e.message}\n`);
      e = e.cause;
      if (e instanceof Error) process.stderr.write('caused by: ');
    }
  }
  return usage ? EXIT_USAGE : EXIT_FAILED;
}

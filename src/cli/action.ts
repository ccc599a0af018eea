import type { Command } from 'commander';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './cli-errors.js';
import { type CommandContext, makeContext } from './context.js';

let code = EXIT_OK;

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

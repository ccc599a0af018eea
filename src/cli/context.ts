import type { Command } from 'commander';
import { UsageError } from './cli-errors.js';
import { type Connection, connect } from './connect.js';
import { parseCount } from './duration.js';
import { makeOutput, type Output } from './output.js';

/** Options every command takes. */
export interface GlobalOptions {
  redis?: string;
  prefix?: string;
  json?: boolean;
  verbose?: boolean;
  deadlineMs?: string;
}

/** What a command's action gets: output, a lazily opened connection, the clock. */
export interface CommandContext {
  readonly out: Output;
  readonly globals: GlobalOptions;
  /**
   * Opened on first use, closed when the command ends. Long-running commands (conductor, dashboard)
   * give an unavailable Redis the store's usual 30 s before a run stops; one-shot commands 5 s.
   */
  connection(options?: { longRunning?: boolean }): Promise<Connection>;
  now(): number;
  /**
   * Aborted on SIGINT / SIGTERM and when stdout's reader goes away, for long-running commands (watch,
   * conductor, dashboard).
   */
  readonly signal: AbortSignal;
}

/** One-shot commands give Redis this long; long-running ones (conductor, dashboard) the store's default. */
export const DEFAULT_DEADLINE_MS = 5_000;
export const LONG_RUNNING_DEADLINE_MS = 30_000;

export function makeContext(
  command: Command,
  signal: AbortSignal,
): CommandContext & { close(): Promise<void> } {
  const globals = command.optsWithGlobals() as GlobalOptions;
  const out = makeOutput(globals.json === true);
  const given =
    globals.deadlineMs === undefined ? undefined : parseCount(globals.deadlineMs, '--deadline-ms');
  let opened: Promise<Connection> | undefined;
  return {
    out,
    globals,
    signal,
    now: () => Date.now(),
    connection(options = {}) {
      opened ??= connect({
        ...(globals.redis !== undefined ? { redis: globals.redis } : {}),
        ...(globals.prefix !== undefined ? { prefix: globals.prefix } : {}),
        deadlineMs: given ?? DEFAULT_DEADLINE_MS,
        runDeadlineMs: given ?? (options.longRunning ? LONG_RUNNING_DEADLINE_MS : DEFAULT_DEADLINE_MS),
      });
      return opened;
    },
    async close() {
      const connection = await opened?.catch(() => undefined);
      await connection?.close();
    },
  };
}

/** The value of an enumerated option, checked (exit code 2 with the allowed values otherwise). */
export function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  option: string,
): T | undefined {
  if (value === undefined) return undefined;
  const upper = value.toUpperCase() as T;
  if (!allowed.includes(upper)) {
    throw new UsageError(`Expected ${option} to be one of ${allowed.join(', ')}, got \`${value}\`.`);
  }
  return upper;
}

/**
 * Progress reports (`ctx.progress`) crossing processes: published, never stored. A live watcher (the
 * CLI's `runs watch`) sees them; the run's history does not hold them.
 */
export interface ProgressReport {
  task: string;
  /** 0..1 */
  fraction: number;
  /** Epoch ms. */
  at: number;
  /** What the task passed to `ctx.progress(fraction, details)`, when it is JSON. */
  details?: unknown;
}

/** The report as published: its details only if they survive JSON (a hint is never worth an error). */
export function progressText(report: ProgressReport): string {
  try {
    return JSON.stringify(report);
  } catch {
    const { details: _details, ...rest } = report;
    return JSON.stringify(rest);
  }
}

/** The Redis pub/sub channel a run's progress is published on (named in src/redis/keys.ts). */
export { progressChannel } from '../redis/keys.js';

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
}

/** The Redis pub/sub channel a run's progress is published on. */
export function progressChannel(prefix: string, runId: string): string {
  return `${prefix}:progress:${runId}`;
}

import { isFinished, type RunStatus } from './store.js';

/** How many runs' statuses a store remembers: its runs in flight, with room to spare. */
const LIMIT = 10_000;

/**
 * The status each run had when this store last wrote or claimed it: a hint of the status its next
 * write leaves, so that the write sends the index keys of that move only (or one, when the status
 * stays) instead of all seven. Only a hint: the script checks it against the stored status and asks
 * for all seven when it is wrong (another process wrote the run meanwhile). Finished runs are not
 * kept (their next write, if any, is another process's or a revert's); beyond LIMIT the oldest go.
 */
export class StatusHints {
  private readonly statuses = new Map<string, RunStatus>();

  get(runId: string): RunStatus | undefined {
    return this.statuses.get(runId);
  }

  wrote(runId: string, status: RunStatus): void {
    // Deleted first, so that the map's order is the order of last writes (the oldest go first).
    this.statuses.delete(runId);
    if (isFinished(status)) return;
    this.statuses.set(runId, status);
    if (this.statuses.size > LIMIT) this.statuses.delete(this.statuses.keys().next().value!);
  }

  forget(runId: string): void {
    this.statuses.delete(runId);
  }
}

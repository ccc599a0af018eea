import { duplicateClient, type RedisClient } from '../redis/client.js';
import { type ProgressReport, progressChannel } from './progress.js';

/**
 * The progress reports of the runs a store's users listen to, on one subscriber connection: a
 * distributed engine listens to every run it follows (a worker in another process publishes what its
 * tasks report), and a connection per run would not scale. Opened with the first listener, closed
 * with the last or with the store.
 */
export class ProgressListeners {
  private subscriber: RedisClient | undefined;
  private readonly listeners = new Map<string, Set<(report: ProgressReport) => void>>();

  constructor(
    private readonly main: RedisClient,
    private readonly prefix: string,
    closing: AbortSignal,
  ) {
    closing.addEventListener('abort', () => this.close(), { once: true });
  }

  /** Call `listener` with each report published for `runId`; the function returned stops it. */
  listen(runId: string, listener: (report: ProgressReport) => void): () => void {
    const channel = progressChannel(this.prefix, runId);
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      // Best effort, as publishing is: a report missed while (re)subscribing is a hint lost, not data.
      this.connection()
        .subscribe(channel)
        .catch(() => {});
    }
    set.add(listener);
    return () => {
      if (!set.delete(listener) || set.size > 0) return;
      this.listeners.delete(channel);
      if (this.listeners.size === 0) this.close();
      else this.subscriber?.unsubscribe(channel).then(undefined, () => {});
    };
  }

  private connection(): RedisClient {
    if (this.subscriber) return this.subscriber;
    const subscriber = duplicateClient(this.main);
    subscriber.on('message', (channel: string, text: string) => {
      const set = this.listeners.get(channel);
      if (!set) return;
      let report: ProgressReport;
      try {
        report = JSON.parse(text) as ProgressReport;
      } catch {
        return; // not ours
      }
      if (typeof report?.task !== 'string' || typeof report.fraction !== 'number') return;
      for (const listener of set) listener(report);
    });
    this.subscriber = subscriber;
    return subscriber;
  }

  private close(): void {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }
}

import { randomUUID } from 'node:crypto';
import { StoreUnavailableError } from '../errors.js';
import { isRunKeyOf, outboxEntryKey, queueKeys } from '../redis/keys.js';
import type { QueueWrite, RunQueues } from './redis-queues.js';
import { runKeys } from './redis-run-fields.js';

/**
 * A step of a distributed run on a Redis Cluster, as a transactional outbox (see lua/outbox.lua.ts):
 * the run's write stores what the step sends to the queues in an entry on the run's own slot, in the
 * same script; the entry is then relayed to the queues' slot and deleted. An entry is registered in
 * an index (`{prefix}:outbox`) before the run's write and removed from it after the relay, so the
 * entries of a process that died in between are found and relayed by any worker (`relayDue`).
 *
 * What single Redis's one script guarantees and this keeps: no message without the state that
 * started its task (a message is relayed only from an entry its run's write stored), no state that
 * starts a task without its message (the entry is stored with the state, and relayed at least once).
 * What it loosens: a message may be sent twice (a relay repeated after a crash or by a slow writer
 * and a sweeping worker both), and the check that a worker still holds the message whose outcome it
 * applies is made (with its claim renewed) just before the run's write, not inside it.
 */

/** An entry nobody relays is declared abandoned after this long; the mark lasts this much more. */
const ABANDONED_MARK_MS = 24 * 60 * 60 * 1000;

export class RunOutbox {
  /**
   * Called once a step's run write has stored its outbox entry, before the relay: a test seam to
   * stop a process exactly there (never set in production).
   */
  onStored: ((runId: string) => void | Promise<void>) | undefined;

  constructor(
    private readonly queues: RunQueues,
    /** Steps go through the outbox (a Cluster); otherwise dispatchRun takes them in one script. */
    public active: boolean,
  ) {}

  /** `{prefix}:outbox`: entry keys scored by when they were registered (server time, epoch ms). */
  get indexKey(): string {
    return queueKeys(this.queues.prefix).outbox;
  }

  /** Write one step's run (with its outbox entry), then relay the entry. Replies as dispatchRun. */
  async write(write: QueueWrite): Promise<unknown[]> {
    const { queues } = this;
    const relays =
      write.ack !== undefined ||
      write.dispatch.length > 0 ||
      write.addTimers.length > 0 ||
      write.removeTimers.length > 0;
    const keys = runKeys(queues.prefix, write.runId);
    const runArgs = queues.runArgs(write);
    // relayOutbox's KEYS: the index, the deadlines' set, then the queues.
    const block = queues.dispatchBlock(write, 3);
    const entry = relays ? JSON.stringify({ k: [queues.timersKey, ...block.keys], a: block.args }) : '';
    for (let late = 0; ; late++) {
      const entryKey = outboxEntryKey(queues.prefix, write.runId, randomUUID());
      if (relays) {
        const ack = write.ack;
        const opened = await queues.connection.call('open outbox entry', write.runId, () =>
          queues.run(
            'openOutboxEntry',
            ack ? [this.indexKey, queues.queueKey(ack.queue)] : [this.indexKey],
            ack ? [entryKey, ack.consumer, ack.id] : [entryKey],
          ),
        );
        if (opened === 'FENCED') return ['FENCED'];
      }
      const reply = (await queues.connection.call('write distributed run', write.runId, () =>
        queues.run('writeRunOutbox', [keys.meta, keys.parts, keys.events, entryKey], [...runArgs, entry]),
      )) as unknown[];
      if (!relays) return reply;
      if (reply[0] !== 'OK') {
        await this.forget(entryKey);
        // Registered so long ago that a worker declared the entry abandoned: register it again.
        if (reply[0] === 'LATE' && late < 3) continue;
        // A write whose reply was lost landed: its entry is relayed by a sweeping worker.
        return reply[0] === 'LATE' ? ['VERSION'] : reply;
      }
      await this.onStored?.(write.runId);
      await this.relay(entryKey, entry);
      return reply;
    }
  }

  /**
   * Apply an entry to the queues' slot and remove its index member (one script), then delete the
   * entry. The delete is not waited for: a process dying before it leaves an inert key (its step is
   * sent and no longer registered), never a step unsent.
   */
  private async relay(entryKey: string, entry: string): Promise<void> {
    const { k: keys, a: args } = JSON.parse(entry) as Entry;
    await this.queues.connection.call('relay outbox entry', undefined, () =>
      this.queues.run('relayOutbox', [this.indexKey, ...keys], [entryKey, ...args]),
    );
    void this.queues.connection
      .call('delete outbox entry', undefined, (client) => client.del(entryKey))
      .catch(() => {});
  }

  private async forget(entryKey: string): Promise<void> {
    await this.queues.connection.call('forget outbox entry', undefined, (client) =>
      client.zrem(this.indexKey, entryKey),
    );
  }

  /**
   * Relay the entries registered at least `olderThanMs` ago (their writer died or froze between its
   * run's write and its relay); an entry registered but never written is marked abandoned, so its
   * write, should it land later, is refused. Resolves how many entries were relayed.
   */
  async relayDue(olderThanMs: number, count = 100): Promise<number> {
    const { queues } = this;
    const due = (await queues.connection.call('read due outbox entries', undefined, () =>
      queues.run('dueOutbox', [this.indexKey], [String(Math.floor(olderThanMs)), String(count)]),
    )) as string[];
    let relayed = 0;
    for (const entryKey of due) {
      // Only this prefix's entries: anything else in the index is forgotten.
      if (!isRunKeyOf(queues.prefix, entryKey)) {
        await this.forget(entryKey);
        continue;
      }
      const entry = (await queues.connection.call('take outbox entry', undefined, () =>
        queues.run('takeOutbox', [entryKey], [String(ABANDONED_MARK_MS)]),
      )) as string | null;
      if (typeof entry !== 'string' || !isEntry(entry)) {
        await this.forget(entryKey);
        continue;
      }
      try {
        await this.relay(entryKey, entry);
        relayed++;
      } catch (error) {
        // Redis away: the entry stays registered and is relayed by a later sweep.
        if (error instanceof StoreUnavailableError) throw error;
        // Refused by Redis (not an entry of ours: keys on other slots, bad arguments): left where it is.
        await this.forget(entryKey);
      }
    }
    return relayed;
  }
}

/** An outbox entry: relayOutbox's KEYS and ARGV after the index and the entry's own key. */
interface Entry {
  k: string[];
  a: string[];
}

function isEntry(text: string): boolean {
  try {
    const entry = JSON.parse(text) as Partial<Entry>;
    return (
      Array.isArray(entry.k) &&
      entry.k.every((key) => typeof key === 'string') &&
      Array.isArray(entry.a) &&
      entry.a.every((arg) => typeof arg === 'string')
    );
  } catch {
    return false;
  }
}

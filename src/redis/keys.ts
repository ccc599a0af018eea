import type { RunStatus } from '../model/run-status.js';

/**
 * Every Redis key and channel name taskweave uses, in one place (the run store, the distributed
 * queues and outbox, the job board, the lifecycle store). Stored data lives under these names, so
 * changing one is a change of the stored format. What each key holds is described where it is
 * written: store/redis-run-fields.ts, store/redis-queues.ts, store/redis-outbox.ts,
 * jobs/redis-job-record.ts, machines/redis-lifecycle-store.ts.
 *
 * Hash tags (`{...}`) decide the Cluster slot: a run's keys share `{<prefix>:<runId>}` so its scripts
 * touch one slot; a prefix's queues share `{<prefix>}`; a board's keys share `{<prefix>:jobs}`.
 */

export interface RunKeys {
  meta: string;
  parts: string;
  events: string;
}

/** `{<prefix>:<runId>}:meta`, `:parts`, `:events`. */
export function runKeys(prefix: string, runId: string): RunKeys {
  const tag = `{${prefix}:${runId}}`;
  return { meta: `${tag}:meta`, parts: `${tag}:parts`, events: `${tag}:events` };
}

/** `{<prefix>:<runId>}:outbox:<id>`: a distributed step's outbox entry on a Cluster (the run's slot). */
export function outboxEntryKey(prefix: string, runId: string, id: string): string {
  return `{${prefix}:${runId}}:outbox:${id}`;
}

/** Whether a key is under some run's hash tag of this prefix (`{<prefix>:`). */
export function isRunKeyOf(prefix: string, key: string): boolean {
  return key.startsWith(`{${prefix}:`);
}

/** `{<prefix>}:flow:<hash>`: a flow's structure (the flow catalog). */
export function flowKey(prefix: string, hash: string): string {
  return `{${prefix}}:flow:${hash}`;
}

/** `<prefix>:idx:<STATUS>`: the status index. */
export function indexKey(prefix: string, status: RunStatus): string {
  return `${prefix}:idx:${status}`;
}

/** `<prefix>:progress:<runId>`: the pub/sub channel a run's progress is published on. */
export function progressChannel(prefix: string, runId: string): string {
  return `${prefix}:progress:${runId}`;
}

/** The distributed queues' keys: all under `{<prefix>}`, one slot per prefix. */
export function queueKeys(prefix: string) {
  const tag = `{${prefix}}`;
  return {
    /** `{<prefix>}:q:<queue>`: a queue's stream. */
    queue: (queue: string) => `${tag}:q:${queue}`,
    /** `{<prefix>}:timers`: backoff deadlines. */
    timers: `${tag}:timers`,
    /** `{<prefix>}:aborts`: the channel telling workers which busy tasks a write stopped. */
    aborts: `${tag}:aborts`,
    /** `{<prefix>}:dead`: messages delivered too often. */
    dead: `${tag}:dead`,
    /** `{<prefix>}:outbox`: outbox entry keys by registration time. */
    outbox: `${tag}:outbox`,
  };
}

export interface JobKeys {
  /** UNCLAIMED jobs: score -priority, member `<16-digit seq>:<id>` (FIFO within a priority). */
  ready: string;
  /** CLAIMED jobs by `leaseUntil` (ms, Redis server clock). */
  leases: string;
  /** Wake-up tokens for `waitForWork` (BLPOP). */
  wake: string;
  /** Sequence counter for queue order and listing order. */
  seq: string;
  /** `<statePrefix><STATE>`: ids in that state, scored by posting order. */
  statePrefix: string;
  /** `<jobPrefix><id>`: the job's hash. */
  jobPrefix: string;
  /** Pub/sub channel: a finished job's id is published on it. */
  done: string;
  job(id: string): string;
}

/** A job board's keys: all under `{<prefix>:jobs}` (see jobs/redis-job-record.ts for why one slot). */
export function jobKeys(prefix: string): JobKeys {
  const tag = `{${prefix}:jobs}`;
  return {
    ready: `${tag}:ready`,
    leases: `${tag}:leases`,
    wake: `${tag}:wake`,
    seq: `${tag}:seq`,
    statePrefix: `${tag}:state:`,
    jobPrefix: `${tag}:job:`,
    done: `${tag}:done`,
    job: (id) => `${tag}:job:${id}`,
  };
}

/** `{<prefix>:<resourceId>}:lifecycle`: a resource's lifecycle snapshot. */
export function lifecycleKey(prefix: string, resourceId: string): string {
  return `{${prefix}:${resourceId}}:lifecycle`;
}

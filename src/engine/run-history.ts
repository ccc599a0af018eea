import { InvalidOptionError, RunNotFoundError, TaskweaveError } from '../errors.js';
import { isRunEnd, type RunEvent } from '../store/run-history.js';
import { isFinished, type ReadOptions, type Store } from '../store/store.js';

/**
 * Reading a run's history through the store (so from any process): the whole of it, or watched live.
 */

export interface WatchOptions {
  /** Only events after this `seq` (the last one seen): a watch picks up where another left off. @default 0 */
  from?: number;
  /** Ends the watch (the loop ends without an error). */
  signal?: AbortSignal;
}

function historyOf(store: Store) {
  const { history, watch } = store;
  if (!history || !watch) {
    throw new TaskweaveError(
      'Expected a store that keeps run history (memoryStore or redisStore), got one without `history` and `watch`.',
    );
  }
  return { history: history.bind(store), watch: watch.bind(store) };
}

/** A run's history, oldest first; `RunNotFoundError` when the store holds no such run. */
export async function readHistory(
  store: Store,
  runId: string,
  after = 0,
  /** The engine's deadline for this read. */
  reading: Pick<ReadOptions, 'deadlineMs'> = {},
): Promise<RunEvent[]> {
  const events = await historyOf(store).history(runId, { after, ...reading });
  if (!events) throw new RunNotFoundError(runId);
  return events;
}

/**
 * Past events after `from`, then live ones as they are stored, until the run ends (its first
 * SUCCESS, REVERTED or FAILURE status after `from`). A run that has ended already gives what its
 * history holds after `from` and ends. `closing` ends it too (the engine closing).
 */
export async function* watchRun(
  store: Store,
  runId: string,
  options: WatchOptions,
  closing: AbortSignal,
  /** A run started by this engine: its create, which the watch waits for before reading. */
  created?: Promise<void>,
  /** The engine's deadline for the reads that start the watch. */
  reading: Pick<ReadOptions, 'deadlineMs'> = {},
): AsyncGenerator<RunEvent> {
  const { watch } = historyOf(store);
  await created;
  const from = options.from ?? 0;
  if (!Number.isInteger(from) || from < 0) {
    throw new InvalidOptionError('from', 'an integer from 0 and up', from);
  }
  // The status first, then the history: a run found ended has its last events stored already.
  const stored = await store.load(runId, reading);
  if (!stored) throw new RunNotFoundError(runId);
  if (isFinished(stored.meta.status)) {
    yield* await readHistory(store, runId, from, reading);
    return;
  }
  const stop = new AbortController();
  const onStop = () => stop.abort();
  options.signal?.addEventListener('abort', onStop, { once: true });
  closing.addEventListener('abort', onStop, { once: true });
  if (options.signal?.aborted || closing.aborted) stop.abort();
  try {
    for await (const event of watch(runId, { after: from, signal: stop.signal })) {
      yield event;
      if (isRunEnd(event)) return;
    }
    // The store's watch ends by itself only when the run is deleted under it.
    if (!stop.signal.aborted) throw new RunNotFoundError(runId);
  } finally {
    stop.abort();
    options.signal?.removeEventListener('abort', onStop);
    closing.removeEventListener('abort', onStop);
  }
}

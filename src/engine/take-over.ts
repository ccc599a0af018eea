import type { CompiledFlow } from '../compile/compile.js';
import { RunNotFoundError } from '../errors.js';
import type { ReadOptions, Store, StoredRun } from '../store/store.js';
import type { FlowRegistry } from './flow-registry.js';
import { joinSnapshot } from './snapshot-parts.js';

/**
 * The resume protocol's two steps: inspect a stored run (load it, find the structure it was started on,
 * validate every part) and only then claim it with a new fencing token (invariant 2). A refused resume
 * (unknown flow, other structure, corrupt data) therefore leaves the stored run untouched (invariant 5).
 */
export interface Inspected {
  compiled: CompiledFlow;
  stored: StoredRun;
  /** The validated snapshot; undefined for a run created but never started. */
  checked: ReturnType<typeof joinSnapshot>;
}

export interface TakenOver {
  compiled: CompiledFlow;
  token: number;
  stored: StoredRun;
  snapshot: ReturnType<typeof joinSnapshot>;
}

export async function inspectRun(
  store: Store,
  registry: FlowRegistry,
  id: string,
  reading: ReadOptions,
): Promise<Inspected> {
  const stored = await store.load(id, reading);
  if (!stored) throw new RunNotFoundError(id);
  const compiled = registry.requireForRun(stored.meta);
  const checked = joinSnapshot(id, compiled, stored.parts); // corrupt data is refused before claiming
  return { compiled, stored, checked };
}

/** Claim an inspected run: from here on `engineId` drives it. */
export async function claimRun(
  store: Store,
  { compiled, stored, checked }: Inspected,
  engineId: string,
  reading: ReadOptions,
): Promise<TakenOver> {
  const id = stored.meta.id;
  const claimed = await store.claim(id, engineId, reading);
  if (!claimed) throw new RunNotFoundError(id);
  // A claim changes only token and owner: the parts read before it are still the run's unless a
  // write landed in between (a higher seq); parse them again only then.
  const snapshot = claimed.run.seq === stored.seq ? checked : joinSnapshot(id, compiled, claimed.run.parts);
  return { compiled, token: claimed.token, stored: claimed.run, snapshot };
}

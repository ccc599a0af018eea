import { type CompiledFlow, compile } from '../compile/compile.js';
import { FlowDefinitionError, FlowVersionMismatchError, UnknownFlowError } from '../errors.js';
import { describe } from '../flow/options.js';
import type { Flow } from '../flow/types.js';
import type { RunMeta } from '../store/store.js';

/**
 * A stored run's compiled flow among the flows a process knows: by name, then by structural hash
 * (several versions of one flow may be known side by side).
 */
export interface FlowResolver {
  (meta: RunMeta): CompiledFlow;
  /** Know more flows (a flow already known is not added twice). */
  register(flows: readonly Flow[]): void;
  /** Every flow name and structural hash known, once each. */
  known(): { flow: string; hash: string }[];
}

export function flowResolver(flows: readonly Flow[]): FlowResolver {
  const byName = new Map<string, CompiledFlow[]>();
  const register = (list: readonly Flow[]) => {
    for (const flow of list) add(flow);
  };
  const add = (flow: Flow) => {
    if (!flow || typeof flow !== 'object' || !['linear', 'parallel', 'graph'].includes(flow.kind)) {
      throw new FlowDefinitionError(
        `Expected a flow made by linear(), parallel() or graph(), got ${describe(flow)}`,
      );
    }
    const compiled = compile(flow);
    const known = byName.get(flow.name) ?? [];
    if (!known.includes(compiled)) byName.set(flow.name, [...known, compiled]);
  };
  register(flows);
  const resolve = (meta: RunMeta) => {
    const known = byName.get(meta.flow);
    if (!known) throw new UnknownFlowError(meta.flow, [...byName.keys()]);
    const match = known.find((c) => c.hash === meta.hash);
    if (!match) throw new FlowVersionMismatchError(meta.id, meta.flow, meta.hash, known.at(-1)!.hash);
    return match;
  };
  const known = () =>
    [...byName].flatMap(([flow, compiled]) =>
      [...new Set(compiled.map((c) => c.hash))].map((hash) => ({ flow, hash })),
    );
  return Object.assign(resolve, { register, known });
}

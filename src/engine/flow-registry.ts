import { type CompiledFlow, compile } from '../compile/compile.js';
import { FlowDefinitionError, FlowVersionMismatchError, UnknownFlowError } from '../errors.js';
import { describe } from '../flow/options.js';
import type { Flow } from '../flow/types.js';
import type { RunMeta } from '../store/store.js';

/**
 * The flows an engine knows, by name, each with every structure registered under it (oldest first):
 * versions side by side. New runs by name use the last one registered; a stored run is resumed,
 * reverted and read with the one whose structural hash it recorded.
 */
export class FlowRegistry {
  private readonly flows = new Map<string, CompiledFlow[]>();

  /** Validate and add flows (definition errors surface here, before anything runs). */
  register(...list: Flow[]): void {
    for (const flow of list) {
      if (!flow || typeof flow !== 'object' || !['linear', 'parallel', 'graph'].includes(flow.kind)) {
        throw new FlowDefinitionError(
          `Expected a flow made by linear(), parallel() or graph(), got ${describe(flow)}`,
        );
      }
      const compiled = compile(flow);
      const versions = this.flows.get(flow.name) ?? [];
      const same = versions.findIndex((known) => known.hash === compiled.hash);
      // The same structure again (a new version string, or the same flow passed to start()) takes the
      // old one's place: it does not become the newest by being mentioned again.
      if (same >= 0) versions[same] = compiled;
      else versions.push(compiled);
      this.flows.set(flow.name, versions);
    }
  }

  /** The newest structure registered under `name`: what new runs by name start on. */
  byName(name: string): Flow {
    const versions = this.flows.get(name);
    if (!versions) throw new UnknownFlowError(name, [...this.flows.keys()]);
    return versions[versions.length - 1]!.flow;
  }

  /** The registered structure a stored run was started on, if this engine has it. */
  forRun(meta: RunMeta): CompiledFlow | undefined {
    return this.flows.get(meta.flow)?.find((known) => known.hash === meta.hash);
  }

  /** Like `forRun`, but a run this engine cannot drive is refused, naming the versions it knows. */
  requireForRun(meta: RunMeta): CompiledFlow {
    const found = this.forRun(meta);
    if (found) return found;
    const versions = this.flows.get(meta.flow);
    if (!versions) throw new UnknownFlowError(meta.flow, [...this.flows.keys()]);
    throw new FlowVersionMismatchError(
      meta.id,
      meta.flow,
      meta.hash,
      versions[versions.length - 1]!.hash,
      meta.version,
      versions.map((known) => `${known.flow.version} (${known.hash})`),
    );
  }
}

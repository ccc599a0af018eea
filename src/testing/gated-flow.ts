import { graph, linear, parallel } from '../flow/patterns.js';
import { task } from '../flow/task.js';
import type { Flow, Node, Task } from '../flow/types.js';
import type { CallGate } from './call-gate.js';

/**
 * The same flow (names, wiring, retry scopes: the same structural hash) with every execute and revert
 * passing through the current gate. The real code runs when the replay lets a call succeed; an injected
 * failure throws instead of running it. Timeouts and backoff delays are dropped: a held call must not
 * time out, and the replay fixes the order, not the timing.
 */
export function gatedFlow(flow: Flow, gate: () => CallGate): Flow {
  const wrap = (node: Node): Node => {
    if (node.kind === 'task') return gatedTask(node, gate);
    const options = { version: node.version, ...(node.retry ? { retry: node.retry } : {}) };
    const children = node.children.map(wrap);
    if (node.kind === 'linear') return linear(node.name, children, options);
    if (node.kind === 'parallel') return parallel(node.name, children, options);
    return graph(node.name, children, { ...options, links: node.links });
  };
  return wrap(flow) as Flow;
}

function gatedTask(original: Task<any, any>, gate: () => CallGate): Task<any, any> {
  return task<any, any>({
    name: original.name,
    requires: original.requires,
    optional: original.optional,
    provides: original.provides,
    rebind: original.rebind,
    inject: original.inject,
    retry: { ...original.retry, backoffMs: 0 },
    execute: (args, ctx) => gate().enter('execute', original.name, async () => original.execute(args, ctx)),
    revert: (args, ctx) =>
      gate().enter('revert', original.name, async () => {
        await original.revert?.(args, ctx);
      }),
  });
}

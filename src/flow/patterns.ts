import { FlowDefinitionError } from '../errors.js';
import { describe, expectName } from './options.js';
import type { Flow, FlowKind, FlowOptions, Link, Node } from './types.js';

function makeFlow(kind: FlowKind, name: unknown, children: unknown, options: FlowOptions = {}): Flow {
  const flowName = expectName(`name\` of \`${kind}()`, name);
  if (!Array.isArray(children)) {
    throw new FlowDefinitionError(
      `Expected the children of ${kind} \`${flowName}\` to be an array, got ${describe(children)}`,
    );
  }
  for (const [i, child] of children.entries()) {
    if (
      !child ||
      typeof child !== 'object' ||
      !['task', 'linear', 'parallel', 'graph'].includes(child.kind)
    ) {
      throw new FlowDefinitionError(
        `Expected child ${i} of ${kind} \`${flowName}\` to be a task() or a flow, got ${describe(child)}`,
      );
    }
  }
  if (options.links !== undefined && kind !== 'graph') {
    throw new FlowDefinitionError(`Expected \`links\` only on graph(), got them on ${kind} \`${flowName}\``);
  }
  const links = (options.links ?? []).map((link: Link) => {
    if (
      !Array.isArray(link) ||
      link.length < 2 ||
      typeof link[0] !== 'string' ||
      typeof link[1] !== 'string'
    ) {
      throw new FlowDefinitionError(
        `Expected each link of graph \`${flowName}\` to be [from, to] or [from, to, decider], got ${describe(link)}`,
      );
    }
    if (link[2] !== undefined && typeof link[2] !== 'function') {
      throw new FlowDefinitionError(
        `Expected the decider of link ${link[0]} → ${link[1]} to be a function, got ${describe(link[2])}`,
      );
    }
    return Object.freeze([...link]) as unknown as Link;
  });
  if (options.version !== undefined) expectName(`version\` of \`${flowName}`, options.version);
  return Object.freeze({
    kind,
    name: flowName,
    children: Object.freeze([...(children as Node[])]),
    links: Object.freeze(links),
    retry: options.retry,
    version: options.version ?? '1',
  });
}

/**
 * Children run one after another (TaskFlow's linear flow).
 *
 * @example
 * const boot = linear('boot-server', [allocateIp, createVolume, spawnVm], { version: '2' });
 */
export function linear(name: string, children: readonly Node[], options?: FlowOptions): Flow {
  return makeFlow('linear', name, children, options);
}

/**
 * Children run at once (TaskFlow's unordered flow); they may not feed each other.
 *
 * @example
 * const prepare = parallel('prepare', [createVolume, createPort]);
 */
export function parallel(name: string, children: readonly Node[], options?: FlowOptions): Flow {
  return makeFlow('parallel', name, children, options);
}

/**
 * Order comes from the data: a child requiring what another provides runs after it; `links` add edges
 * (with an optional decider that can skip the target).
 *
 * @example
 * const configure = graph('configure', [a, b, c], { links: [['a', 'c', (h) => h.a !== 'skip']] });
 */
export function graph(name: string, children: readonly Node[], options?: FlowOptions): Flow {
  return makeFlow('graph', name, children, options);
}

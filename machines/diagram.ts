import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { dotQuote } from '../src/model/dot-text.js';

/** One drawn arrow: every transition of every state node, `always` ones included. */
interface Edge {
  /** No targets: a transition that only runs actions, drawn as a loop. */
  targets: readonly AnyStateNode[];
  label: string;
  description: string | undefined;
}

/**
 * A Mermaid `stateDiagram-v2` of a machine: every state (nested ones as composite states, parallel
 * regions split by `--`), every transition labelled with its event and guard, and the actions that
 * in-progress states run. Output depends only on the machine, in definition order.
 *
 * @example
 * lifecycleToMermaid(serverMachine).split('\n')[2]; // '  INIT --> BUILDING : CREATE'
 */
export function lifecycleToMermaid(machine: AnyStateMachine): string {
  const ids = nodeIds(machine, (node) => node.path.join('_').replace(/[^A-Za-z0-9_]/g, '_'));
  const lines = ['stateDiagram-v2'];
  const block = (parent: AnyStateNode, indent: string) => {
    const children = Object.values(parent.states) as AnyStateNode[];
    const initial = parent.type === 'compound' ? parent.initial.target[0] : undefined;
    if (initial) lines.push(`${indent}[*] --> ${ids.get(initial)}`);
    children.forEach((node, i) => {
      const id = ids.get(node)!;
      if (parent.type === 'parallel' && i > 0) lines.push(`${indent}--`);
      if (id !== node.key) lines.push(`${indent}state "${node.key}" as ${id}`);
      if (node.type === 'compound' || node.type === 'parallel') {
        lines.push(`${indent}state ${id} {`);
        block(node, `${indent}  `);
        lines.push(`${indent}}`);
      }
      const runs = invoked(node);
      if (runs) lines.push(`${indent}${id} : runs ${runs}`);
    });
    for (const node of children) {
      for (const edge of edges(node)) {
        for (const target of edge.targets.length ? edge.targets : [node]) {
          lines.push(`${indent}${ids.get(node)} --> ${ids.get(target)} : ${edge.label}`);
        }
      }
      if (node.type === 'final') lines.push(`${indent}${ids.get(node)} --> [*]`);
    }
  };
  block(machine.root, '  ');
  return `${lines.join('\n')}\n`;
}

/**
 * A Graphviz `digraph` of a machine: nested states as clusters, final states double-bordered, each
 * transition's `description` (a lifecycle table's reason) as its tooltip. Deterministic like the Mermaid one.
 *
 * @example
 * writeFileSync('server.dot', lifecycleToDot(serverMachine)); // dot -Tsvg server.dot > server.svg
 */
export function lifecycleToDot(machine: AnyStateMachine): string {
  const ids = nodeIds(machine, (node) => node.id);
  const q = dotQuote;
  const nested = (node: AnyStateNode) => node.type === 'compound' || node.type === 'parallel';
  const lines = [
    `digraph ${q(machine.id)} {`,
    '  rankdir=LR;',
    '  compound=true;',
    '  node [shape=box, style=rounded];',
  ];
  // A compound state is a cluster; arrows to or from it attach to a point inside (its "anchor").
  const cluster = (node: AnyStateNode, indent: string) => {
    const anchor = q(ids.get(node)!);
    lines.push(`${indent}${anchor} [shape=point];`);
    const children = Object.values(node.states) as AnyStateNode[];
    const starts = node.type === 'parallel' ? children : node.initial.target;
    for (const start of starts) lines.push(`${indent}${anchor} -> ${q(ids.get(start)!)};`);
    for (const child of children) {
      if (nested(child)) {
        lines.push(
          `${indent}subgraph ${q(`cluster_${ids.get(child)}`)} {`,
          `${indent}  label=${q(child.key)};`,
        );
        cluster(child, `${indent}  `);
        lines.push(`${indent}}`);
        continue;
      }
      const runs = invoked(child);
      const label = runs ? `${child.key}\nruns ${runs}` : child.key;
      lines.push(
        `${indent}${q(ids.get(child)!)} [label=${q(label)}${child.type === 'final' ? ', peripheries=2' : ''}];`,
      );
    }
  };
  cluster(machine.root, '  ');
  for (const node of allNodes(machine.root)) {
    for (const edge of edges(node)) {
      for (const target of edge.targets.length ? edge.targets : [node]) {
        const attributes = [`label=${q(edge.label)}`];
        if (edge.description) attributes.push(`tooltip=${q(edge.description)}`);
        if (nested(node)) attributes.push(`ltail=${q(`cluster_${ids.get(node)}`)}`);
        if (nested(target)) attributes.push(`lhead=${q(`cluster_${ids.get(target)}`)}`);
        lines.push(`  ${q(ids.get(node)!)} -> ${q(ids.get(target)!)} [${attributes.join(', ')}];`);
      }
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** The transitions leaving one state node, `always` included, in definition order. */
function edges(node: AnyStateNode): Edge[] {
  const all = [...node.transitions.values()].flat().concat(node.always ?? []);
  return all.map((t) => ({
    targets: t.target ?? [],
    label: [eventLabel(t.eventType), guardLabel(t.guard)].filter(Boolean).join(' '),
    description: t.description,
  }));
}

/** XState's internal event names, said the way a lifecycle table says them. */
function eventLabel(type: string): string {
  if (type === '') return 'always';
  const outcome = /^xstate\.(done|error)\.actor\.(.+)$/.exec(type);
  return outcome ? `${outcome[1]}(${outcome[2]})` : type;
}

function guardLabel(guard: unknown): string {
  if (guard === undefined) return '';
  if (typeof guard === 'string') return `[${guard}]`;
  if (typeof guard === 'object' && guard !== null && 'type' in guard) {
    const { type, params } = guard as { type: string; params?: unknown };
    // A lifecycle table's guard says itself in words (`from ACTIVE`, `attachments ≥ 2`).
    const label = (params as { label?: unknown } | undefined)?.label;
    if (typeof label === 'string') return `[${label}]`;
    const values = params && typeof params === 'object' ? Object.values(params).map(String) : [];
    return `[${[type, ...values].join(' ')}]`;
  }
  return '[guard]';
}

const invoked = (node: AnyStateNode): string =>
  node.invoke.map((i) => (typeof i.src === 'string' ? i.src : i.id)).join(', ');

function allNodes(root: AnyStateNode): AnyStateNode[] {
  return (Object.values(root.states) as AnyStateNode[]).flatMap((node) => [node, ...allNodes(node)]);
}

/** A unique, stable id per state node (root included), from `name` with a numeric suffix on clashes. */
function nodeIds(machine: AnyStateMachine, name: (node: AnyStateNode) => string): Map<AnyStateNode, string> {
  const ids = new Map<AnyStateNode, string>([[machine.root, machine.id]]);
  const taken = new Set([machine.id]);
  for (const node of allNodes(machine.root)) {
    let id = name(node);
    for (let n = 2; taken.has(id); n += 1) id = `${name(node)}_${n}`;
    taken.add(id);
    ids.set(node, id);
  }
  return ids;
}

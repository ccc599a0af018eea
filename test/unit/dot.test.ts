import { describe, expect, it } from 'vitest';
import { toDot } from '../../src/compile/dot.js';
import { graph, linear, parallel, retry, task } from '../../src/index.js';

const t = (name: string, requires: string[] = [], provides?: string) =>
  task({ name, requires, ...(provides ? { provides } : {}), execute: () => name });

const boot = linear(
  'boot-server',
  [
    t('allocate-ip', [], 'ip'),
    parallel('prepare', [t('create-volume'), t('create-port', ['ip'])]),
    graph('configure', [t('a', [], 'x'), t('b', ['x']), t('c')], { links: [['a', 'c', () => true]] }),
    t('spawn "vm"'),
  ],
  { retry: retry.times(2) },
);

describe('toDot', () => {
  it('draws a cluster per sub-flow, a box per task and an arrow per dependency', () => {
    expect(toDot(boot)).toBe(
      [
        'digraph "boot-server" {',
        '  rankdir=TB;',
        '  node [shape=box, style=rounded];',
        '  subgraph "cluster_boot-server" {',
        '    label="linear boot-server · retry times(2)";',
        '    "allocate-ip" [label="allocate-ip\\n→ ip"];',
        '    subgraph "cluster_prepare" {',
        '      label="parallel prepare";',
        '      "create-volume" [label="create-volume"];',
        '      "create-port" [label="create-port"];',
        '    }',
        '    subgraph "cluster_configure" {',
        '      label="graph configure";',
        '      "a" [label="a\\n→ x"];',
        '      "b" [label="b"];',
        '      "c" [label="c"];',
        '    }',
        '    "spawn \\"vm\\"" [label="spawn \\"vm\\""];',
        '  }',
        '  "allocate-ip" -> "create-volume";',
        '  "allocate-ip" -> "create-port";',
        '  "create-volume" -> "a";',
        '  "create-port" -> "a";',
        '  "a" -> "b";',
        '  "a" -> "c" [style=dashed, label="decider"];',
        '  "b" -> "spawn \\"vm\\"";',
        '  "c" -> "spawn \\"vm\\"";',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('is deterministic: equal structures give equal text', () => {
    const again = linear('boot-server', boot.children, { retry: retry.times(2) });
    expect(toDot(again)).toBe(toDot(boot));
  });
});

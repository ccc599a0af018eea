import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import {
  type LifecycleDefinition,
  type LifecycleMachine,
  lifecycle,
  lifecycleToDot,
  lifecycleToMermaid,
  serverLifecycle,
  serverMachine,
  stackLifecycle,
  stackMachine,
  transitionRows,
  volumeLifecycle,
  volumeMachine,
} from '../../machines/index.js';

const cases: [string, LifecycleMachine, LifecycleDefinition][] = [
  ['server', serverMachine, serverLifecycle],
  ['volume', volumeMachine, volumeLifecycle],
  ['stack', stackMachine, stackLifecycle],
];

describe.each(cases)('%s diagrams', (name, machine, definition) => {
  const mermaid = lifecycleToMermaid(machine);
  const dot = lifecycleToDot(machine);

  it('draw every transition of the table, with its reason as the Graphviz tooltip', () => {
    const id = (state: string) => state.replace(/[^A-Za-z0-9_]/g, '_');
    for (const row of transitionRows(definition)) {
      expect(mermaid).toMatch(
        new RegExp(
          `^  ${id(row.from)} --> ${id(row.to)} : ${row.event.replace(/[()]/g, '\\$&')}( \\[|$)`,
          'm',
        ),
      );
      expect(dot).toContain(`"${name}.${row.from}" -> "${name}.${row.to}" [label="${row.event}`);
      expect(dot).toContain(`tooltip="${row.reason}"`);
    }
    const arrows = mermaid
      .split('\n')
      .filter((line) => / --> (?!\[\*\])/.test(line) && !line.includes('[*] -->'));
    expect(arrows).toHaveLength(transitionRows(definition).length);
  });

  it('are deterministic', async () => {
    expect(lifecycleToMermaid(lifecycle(definition))).toBe(mermaid);
    expect(lifecycleToDot(lifecycle(definition))).toBe(dot);
    await expect(mermaid).toMatchFileSnapshot(`./machines-diagrams/${name}.mmd`);
    await expect(dot).toMatchFileSnapshot(`./machines-diagrams/${name}.dot`);
  });
});

describe('diagrams of any machine', () => {
  const machine = createMachine({
    id: 'job',
    initial: 'queued',
    states: {
      queued: { always: [{ target: 'running', guard: 'hasWorker' }], on: { PING: { actions: [] } } },
      running: {
        type: 'parallel',
        states: {
          work: { initial: 'busy', states: { busy: { on: { DONE: 'idle' } }, idle: {} } },
          beat: { initial: 'up', states: { up: {} } },
        },
        on: { FAIL: '#job.failed' },
      },
      failed: { type: 'final' },
    },
  });

  it('draw always transitions, targetless ones as loops, and nested and parallel states', () => {
    expect(lifecycleToMermaid(machine)).toBe(`stateDiagram-v2
  [*] --> queued
  state running {
    state "work" as running_work
    state running_work {
      [*] --> running_work_busy
      state "busy" as running_work_busy
      state "idle" as running_work_idle
      running_work_busy --> running_work_idle : DONE
    }
    --
    state "beat" as running_beat
    state running_beat {
      [*] --> running_beat_up
      state "up" as running_beat_up
    }
  }
  queued --> queued : PING
  queued --> running : always [hasWorker]
  running --> failed : FAIL
  failed --> [*]
`);
    const dot = lifecycleToDot(machine);
    expect(dot).toContain(
      '"job.queued" -> "job.running" [label="always [hasWorker]", lhead="cluster_job.running"];',
    );
    expect(dot).toContain('"job.running" -> "job.failed" [label="FAIL", ltail="cluster_job.running"];');
    expect(dot).toContain('"job.running.work" -> "job.running.work.busy";');
  });
});

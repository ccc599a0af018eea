// Why taskweave/testing walks flows with `xstate/graph` and not the separate `@xstate/graph` package.
//
//   npm install --no-save @xstate/graph@3.0.4 && npx tsx docs/probes/xstate-graph-filter-events.ts
//
// Same machine, same options, both packages: a `filterEvents` that refuses `FAIL` must keep the walk
// out of `failed`. `xstate/graph` (shipped inside xstate ≥ 5.20) obeys it; `@xstate/graph` 3.0.4 has
// no `filterEvents` at all and walks into `failed` without a word, so paths filtered that way are bogus.
import { createRequire } from 'node:module';
import { getShortestPaths as separate } from '@xstate/graph';
import { createMachine } from 'xstate';
import { getShortestPaths as shipped } from 'xstate/graph';

const machine = createMachine({
  initial: 'idle',
  states: {
    idle: { on: { START: 'running' } },
    running: { on: { DONE: 'done', FAIL: 'failed' } },
    done: {},
    failed: {},
  },
});
const options = {
  events: [{ type: 'START' }, { type: 'DONE' }, { type: 'FAIL' }],
  filterEvents: (_: unknown, event: { type: string }) => event.type !== 'FAIL',
};
const version = (name: string): string => createRequire(import.meta.url)(`${name}/package.json`).version;
const ends = (paths: { state: { value: unknown } }[]) => paths.map((p) => String(p.state.value)).sort();

const a = ends(shipped(machine, options));
const b = ends(separate(machine, options as never));
console.log(`xstate/graph (xstate ${version('xstate')}): ${a.join(', ')}`);
console.log(`@xstate/graph ${version('@xstate/graph')}: ${b.join(', ')}`);
console.log(
  b.includes('failed') && !a.includes('failed')
    ? 'filterEvents: obeyed by xstate/graph, ignored by @xstate/graph'
    : 'filterEvents: both packages agree now; recheck the README section "Test every path of your flow"',
);

// README "The compiled machine".
import { compile, createEngine, toDot, toMermaid } from 'taskweave';
import { serverBoot } from '../server-boot.js';

// Any XState inspection observer, e.g. @statelyai/inspect's (see docs/inspector.md).
const inspector = { inspect: (event: { type: string }) => void event.type };

const { machine, hash, lanes } = compile(serverBoot); // an ordinary XState machine: inspect, walk, draw it
console.log(toMermaid(serverBoot));                   // Mermaid flowchart: tasks, sub-flows, edges, deciders
console.log(toDot(serverBoot));                       // the same as a Graphviz digraph
createEngine({ inspect: inspector.inspect });         // any XState inspection observer, on every run actor
console.log(machine.id, hash, lanes.length);

/**
 * The diagrams committed under examples/diagrams/: every example's flow (`toMermaid`, `toDot`) and the
 * three lifecycle machines (`lifecycleToMermaid`, `lifecycleToDot`), one `<name>.mmd` and `<name>.dot`
 * each. test/unit/diagrams.test.ts regenerates them and compares with the committed files.
 *
 *   npx tsx examples/diagrams.ts                 # print server-boot's Mermaid; list the others
 *   npx tsx examples/diagrams.ts --out <dir>     # write them all into <dir>
 *   npx tsx examples/diagrams.ts --update        # rewrite the committed examples/diagrams/
 *
 * Render them with `mmdc -i server-boot.mmd -o server-boot.svg` or `dot -Tsvg server-boot.dot`.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Redis } from 'ioredis';
import {
  type LifecycleMachine,
  lifecycleToDot,
  lifecycleToMermaid,
  serverMachine,
  stackMachine,
  volumeMachine,
} from '../machines/index.js';
import { type Flow, toDot, toMermaid } from '../src/index.js';
import { provisionFlow } from './decider.js';
import { deployFlow } from './graph-wiring.js';
import { bootFlow } from './ha-conductors.js';
import { helloFlow } from './hello-world.js';
import { placementFlow } from './retry-values.js';
import { migrateFlow } from './reverting-linear.js';
import { fakeCloud, serverBoot } from './server-boot.js';
import { makeServerFlows } from './server-lifecycle.js';

/** Where the diagrams live. */
export const DIAGRAMS_DIR = fileURLToPath(new URL('./diagrams/', import.meta.url));

/** Every example's flow, each once (demo.ts runs server-boot; server-lifecycle.ts adds three). */
export function exampleFlows(): Flow[] {
  const lifecycle = makeServerFlows({ cloud: fakeCloud() });
  return [
    helloFlow,
    serverBoot,
    migrateFlow,
    deployFlow,
    placementFlow,
    provisionFlow,
    // Its tasks use the client only when they run: a diagram needs none.
    bootFlow(undefined as unknown as Redis, 'diagram', 'diagram'),
    lifecycle.stop,
    lifecycle.start,
    lifecycle.delete,
  ];
}

export const LIFECYCLE_MACHINES: readonly LifecycleMachine[] = [serverMachine, volumeMachine, stackMachine];

/**
 * Every diagram, file name → text, sorted by name. Flows are named by their flow name, machines
 * `lifecycle-<id>`.
 *
 * @example
 * for (const [file, text] of diagrams()) await writeFile(`${DIAGRAMS_DIR}${file}`, text);
 */
export function diagrams(): Map<string, string> {
  const files: [string, string][] = [];
  for (const flow of exampleFlows()) {
    files.push([`${flow.name}.mmd`, toMermaid(flow)], [`${flow.name}.dot`, toDot(flow)]);
  }
  for (const machine of LIFECYCLE_MACHINES) {
    files.push(
      [`lifecycle-${machine.id}.mmd`, lifecycleToMermaid(machine)],
      [`lifecycle-${machine.id}.dot`, lifecycleToDot(machine)],
    );
  }
  const names = files.map(([name]) => name);
  const clash = names.find((name, i) => names.indexOf(name) !== i);
  if (clash) throw new Error(`Expected one diagram per name, got two called ${clash}`);
  return new Map(files.sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Write every diagram and remove files that no longer belong to one. Returns the names written. */
export async function writeDiagrams(dir = DIAGRAMS_DIR): Promise<string[]> {
  const wanted = diagrams();
  await mkdir(dir, { recursive: true });
  for (const file of await readdir(dir)) {
    if (!wanted.has(file) && /\.(mmd|dot)$/.test(file)) await rm(`${dir}${file}`);
  }
  for (const [file, text] of wanted) await writeFile(`${dir}${file}`, text);
  return [...wanted.keys()];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Only an explicit --update touches the committed (tracked) files.
  const [flag, dir] = process.argv.slice(2);
  if (flag === '--update' || (flag === '--out' && dir)) {
    const target = flag === '--update' ? DIAGRAMS_DIR : `${dir!.replace(/\/$/, '')}/`;
    const written = await writeDiagrams(target);
    console.log(`wrote ${written.length} diagrams to ${target}: ${written.join(', ')}`);
  } else {
    const all = diagrams();
    console.log(all.get('server-boot.mmd'));
    console.log(`(${all.size} diagrams: ${[...all.keys()].join(', ')}; --out <dir> writes them all)`);
  }
}

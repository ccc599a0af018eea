/**
 * A graph flow wires itself: a task that requires what another provides runs after it. The tasks
 * are listed in no particular order; independent ones run at once.
 *
 *   npx tsx examples/graph-wiring.ts
 */
import { pathToFileURL } from 'node:url';
import { compile, createEngine, graph, task, toMermaid } from '../src/index.js';

const order: string[] = [];
/** Note that a task ran, and return its result. */
function ran<T>(name: string, result: T): T {
  order.push(name);
  return result;
}

// Listed deliberately out of order: the graph sorts them by requires → provides.
export const deployFlow = graph('deploy-app', [
  task({
    name: 'smoke-test',
    requires: 'url',
    provides: 'healthy',
    execute: ({ url }: { url: string }) => ran('smoke-test', `GET ${url}/health → 200`),
  }),
  task({
    name: 'deploy',
    requires: ['image', 'schema'],
    provides: 'url',
    execute: ({ image }: { image: string }) => ran('deploy', `https://app.example/${image.split(':')[1]}`),
  }),
  task({
    name: 'migrate-db',
    requires: 'db',
    provides: 'schema',
    execute: ({ db }: { db: string }) => ran('migrate-db', `${db}@v42`),
  }),
  task({
    name: 'build-image',
    requires: 'commit',
    provides: 'image',
    execute: ({ commit }: { commit: string }) => ran('build-image', `app:${commit}`),
  }),
  task({
    name: 'create-db',
    provides: 'db',
    execute: () => ran('create-db', 'pg-1'),
  }),
]);

async function main(): Promise<void> {
  console.log('edges inferred from requires/provides:');
  for (const [from, to] of compile(deployFlow).graph.edges) console.log(`  ${from} → ${to}`);

  console.log('\nas Mermaid (toMermaid):');
  process.stdout.write(toMermaid(deployFlow));

  const engine = createEngine();
  const results = await engine.run(deployFlow, { commit: 'a1b2c3' }, { id: 'deploy-1' });
  // build-image and create-db have no edge between them: they start together. Sorted, because the
  // order in which two independent tasks finish is not defined.
  const first = order.slice(0, 2).sort();
  console.log(`\nstarted together: ${first.join(', ')}`);
  console.log(`then, in order:   ${order.slice(2).join(' → ')}`);
  console.log(`results: ${JSON.stringify(results)}`);
  await engine.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();

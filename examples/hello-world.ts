/**
 * The smallest taskweave program: two tasks in a line, the second using what the first provides.
 *
 *   npx tsx examples/hello-world.ts
 */
import { pathToFileURL } from 'node:url';
import { createEngine, linear, task } from '../src/index.js';

const greet = task({
  name: 'greet',
  requires: 'who',
  provides: 'greeting',
  execute: ({ who }: { who: string }) => `Hello, ${who}!`,
});

const shout = task({
  name: 'shout',
  requires: 'greeting',
  provides: 'loud',
  execute: ({ greeting }: { greeting: string }) => greeting.toUpperCase(),
});

export const helloFlow = linear('hello', [greet, shout]);

async function main(): Promise<void> {
  const engine = createEngine(); // memory store
  const run = engine.start(helloFlow, { who: 'world' }, { id: 'hello-1' });
  run.on('task', (e) => console.log(`  ${e.task.padEnd(6)} ${e.state}`));
  const results = await run.result;
  console.log(`run ${run.id}: ${run.status}`);
  console.log(`results: ${JSON.stringify(results)}`);
  await engine.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();

/**
 * A process that reads a run without the flow's code (it imports no flow): for the history and
 * catalog tests. It prints one line per result, then closes its engine and lets Node exit by itself
 * (an exit code 0 shows that nothing of taskweave kept the process alive).
 *
 *   node --import tsx test/support/history-child.ts <redisUrl> <prefix> <runId> <watch|draw>
 *
 * `watch`: `EVENT <json>` per event of engine.watch(runId), then `END`.
 * `draw`:  `INFO <json>` with engine.get(runId)'s flow and task states, `MERMAID <json string>`,
 *          `DOT <json string>`.
 */
import { createEngine, redisStore, toDot, toMermaid } from '../../src/index.js';

const [url, prefix, runId, mode] = process.argv.slice(2);
if (!url || !prefix || !runId || !['watch', 'draw'].includes(mode!)) {
  process.stderr.write('usage: history-child.ts <redisUrl> <prefix> <runId> <watch|draw>\n');
  process.exit(2);
}

const engine = createEngine({ store: redisStore({ redis: url, prefix }) });
try {
  if (mode === 'watch') {
    for await (const event of engine.watch(runId)) process.stdout.write(`EVENT ${JSON.stringify(event)}\n`);
    process.stdout.write('END\n');
  } else {
    const info = await engine.get(runId);
    const tasks = Object.fromEntries(Object.entries(info?.tasks ?? {}).map(([name, t]) => [name, t.state]));
    process.stdout.write(`INFO ${JSON.stringify({ flow: info?.flow, tasks })}\n`);
    if (info?.flow) {
      process.stdout.write(`MERMAID ${JSON.stringify(toMermaid(info.flow))}\n`);
      process.stdout.write(`DOT ${JSON.stringify(toDot(info.flow))}\n`);
    }
  }
} finally {
  // Closes its store too, which opened its connection from the URL.
  await engine.close();
}

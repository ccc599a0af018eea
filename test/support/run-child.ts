/**
 * A child process for the process-kill tests: it starts a run on Redis and hangs inside one task's
 * execute (or revert), then prints `HANGING <kind> <task>` so the parent knows when to SIGKILL it.
 *
 *   node --import tsx test/support/run-child.ts <redisUrl> <prefix> <runId> <execute|revert|events>
 *
 * `execute`: a `provision` run; attach's execute hangs (reserve, format and tag have finished).
 * `revert`:  a `chain` run; d fails, the run reverts d and c, then b's revert hangs.
 * `wide`:    a `wide` run (the spawned shape); disk5's execute hangs, the other disks finish.
 * `events`:  a `provision` run whose tasks take a few ms each; prints `TASK <task> <state>` on every
 *            task event (as the machine changes, before the change is stored) and `SETTLED`. With a
 *            6th argument k, the whole process freezes right after the k-th event, before the write it
 *            causes, so the parent's SIGKILL lands at exactly that point.
 */
import { writeSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { InspectionEvent } from 'xstate';
import { createEngine, redisStore } from '../../src/index.js';
import { type Behaviour, chainFlow, provisionFlow, redisEffects, wideFlow } from './flows.js';

const [url, prefix, runId, scenario, freezeAfter] = process.argv.slice(2);
if (!url || !prefix || !runId || !['execute', 'revert', 'wide', 'events'].includes(scenario!)) {
  process.stderr.write('usage: run-child.ts <redisUrl> <prefix> <runId> <execute|revert|wide|events>\n');
  process.exit(2);
}

const redis = new Redis(url);
const onHang: Behaviour['onHang'] = (task, kind) => process.stdout.write(`HANGING ${kind} ${task}\n`);
const log = redisEffects(redis, prefix);
const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 5));
const flow =
  scenario === 'execute'
    ? provisionFlow(log, { label: 'child', hangExecute: 'attach', onHang })
    : scenario === 'revert'
      ? chainFlow(log, { label: 'child', fail: ['d'], hangRevert: 'b', onHang })
      : scenario === 'wide'
        ? wideFlow(log, { label: 'child', hangExecute: 'disk5', onHang })
        : provisionFlow(log, { label: 'child', before: pause });
/**
 * `events`: task changes as the machine makes them, before they are stored (a FlowRun reports only
 * what is stored, so the run actor's snapshots are watched through the inspection API instead).
 */
let seen = 0;
let last: Record<string, string> = {};
const inspect = (event: InspectionEvent) => {
  if (scenario !== 'events' || event.type !== '@xstate.snapshot') return;
  if (event.actorRef.sessionId !== event.rootId) return;
  const groups = (event.snapshot as unknown as { context: { tasks: Record<string, { s: string }>[] } })
    .context.tasks;
  const now: Record<string, string> = {};
  for (const group of groups) for (const [task, record] of Object.entries(group)) now[task] = record.s;
  for (const [task, state] of Object.entries(now)) {
    if (state === (last[task] ?? 'PENDING')) continue;
    writeSync(1, `TASK ${task} ${state}\n`);
    // Blocks the event loop for good: no microtask, write or timer of this process runs again.
    if (++seen === Number(freezeAfter)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
  last = now;
};
const engine = createEngine({ store: redisStore({ redis: url, prefix }), flows: [flow], inspect });
const inputs = flow.name === 'chain' ? { seed: 's' } : { name: 'web' };
const run = engine.start(flow.name, inputs, { id: runId });
if (scenario === 'events') {
  run.result.then(
    () => process.stdout.write('SETTLED\n'),
    () => process.stdout.write('SETTLED\n'),
  );
} else
  run.result.then(
    () => process.stdout.write('UNEXPECTED success\n'),
    (error: Error) => process.stdout.write(`UNEXPECTED ${error.name}: ${error.message}\n`),
  );

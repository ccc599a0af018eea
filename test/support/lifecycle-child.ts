/**
 * A child process for the lifecycle restart test: it runs server `<resourceId>`'s lifecycle on Redis
 * (engine runs and lifecycle snapshot under `<prefix>`), sends CREATE, and hangs inside the boot's
 * `<hangKind>` create (`vm`: boot-vm, after allocate-ip, create-volume and create-port finished), printing
 * `HANGING <kind>` so the parent knows when to SIGKILL it.
 *
 * With a fifth argument, BUILDING times out after that many ms (a stored deadline the parent's runner enforces).
 *
 *   node --import tsx test/support/lifecycle-child.ts <redisUrl> <prefix> <resourceId> <hangKind> [timeoutMs]
 */
import { Redis } from 'ioredis';
import { makeServerFlows, serverActions } from '../../examples/server-lifecycle.js';
import { lifecycle, redisLifecycleStore, runLifecycle, serverMachine } from '../../machines/index.js';
import { createEngine, redisStore } from '../../src/index.js';
import { redisCloud } from './redis-cloud.js';
import { withBuildTimeout } from './server-timeout.js';

const [url, prefix, resourceId, hangKind, timeoutMs] = process.argv.slice(2);
if (!url || !prefix || !resourceId || !hangKind) {
  process.stderr.write('usage: lifecycle-child.ts <redisUrl> <prefix> <resourceId> <hangKind>\n');
  process.exit(2);
}

const redis = new Redis(url);
const cloud = redisCloud(redis, prefix, {
  hang: hangKind,
  onHang: (kind) => process.stdout.write(`HANGING ${kind}\n`),
});
const engine = createEngine({ store: redisStore({ redis: url, prefix }) });
const store = redisLifecycleStore({ redis: url, prefix });
const machine = timeoutMs ? lifecycle(withBuildTimeout(Number(timeoutMs))) : serverMachine;
const server = await runLifecycle(machine, {
  resourceId,
  store,
  actions: serverActions(engine, makeServerFlows({ cloud })),
});
await server.send({ type: 'CREATE', network: 'net-1', sizeGb: 20 });
process.stdout.write('BUILDING\n');
server.settled().then(
  (snapshot) => process.stdout.write(`UNEXPECTED settled in ${String(snapshot.value)}\n`),
  (error: Error) => process.stdout.write(`UNEXPECTED ${error.name}: ${error.message}\n`),
);

/**
 * High availability: two conductor processes share one job board in Redis. The first claims a job
 * and is SIGKILLed halfway through it; once its lease runs out the second takes the job over and
 * finishes it from the stored snapshot: steps that finished are not run again, the step that was
 * running is run again with the same idempotency key (so the fake cloud hands back what it made).
 *
 *   npm run demo:ha                         # Redis at REDIS_URL, default redis://127.0.0.1:6379
 *
 * Everything lives under a random key prefix, deleted at the end.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import {
  createConductor,
  createEngine,
  type Flow,
  linear,
  redisJobBoard,
  redisStore,
  StoreUnavailableError,
  task,
} from 'taskweave';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** How long the demo waits for Redis before it says it cannot reach it. */
const REACH_MS = 3_000;
const LEASE_MS = 2_000;
const STEP_MS = 400;
const STEPS = ['allocate-ip', 'create-volume', 'create-port', 'boot-vm', 'announce'];

/** The flow both conductors know: five steps, each "creating" a resource once per idempotency key. */
export function bootFlow(redis: Redis, prefix: string, conductor: string): Flow {
  return linear(
    'ha-boot',
    STEPS.map((name, i) =>
      task({
        name,
        requires: i === 0 ? ['server'] : [`r${i - 1}`],
        provides: `r${i}`,
        async execute(_args, ctx) {
          say(conductor, `  running ${name}`);
          await new Promise((resolve) => setTimeout(resolve, STEP_MS));
          // Idempotent by key: a step re-run after a crash gets the resource it already made.
          const made = await redis.set(`${prefix}:made:${ctx.idempotencyKey}`, conductor, 'NX');
          await redis.rpush(
            `${prefix}:log`,
            `${name} ${made ? 'created by' : 'already there, seen by'} ${conductor}`,
          );
          return `${name}#1`;
        },
      }),
    ),
    { version: '1' },
  );
}

function say(who: string, text: string): void {
  process.stdout.write(`[${who}] ${text}\n`);
}

/** A conductor process: claims jobs until SIGTERM, then drains and exits. */
async function conductorProcess(name: string, prefix: string): Promise<void> {
  // For the flow's own bookkeeping (what each step "created"); the store and board open their own.
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  const board = redisJobBoard({ redis: REDIS_URL, prefix, unavailableDeadlineMs: REACH_MS });
  const engine = createEngine({
    store: redisStore({ redis: REDIS_URL, prefix }),
    flows: [bootFlow(redis, prefix, name)],
  });
  const conductor = createConductor({
    board,
    engine,
    id: name,
    leaseMs: LEASE_MS,
    concurrency: 1,
    unavailableDeadlineMs: REACH_MS,
  });
  conductor.on('claimed', (e) =>
    say(name, `claimed ${e.id}${e.takeover ? ' (a takeover: its previous conductor stopped renewing)' : ''}`),
  );
  conductor.on('completed', (e) => say(name, `completed ${e.id}`));
  conductor.on('lost', (e) => say(name, `lost ${e.id} (${e.reason})`));
  const shutDown = async () => {
    await conductor.stop({ drain: true });
    await engine.close(); // and its store
    await board.close();
    redis.disconnect();
  };
  process.once('SIGTERM', () => void shutDown());
  try {
    await conductor.start(); // rejects when Redis cannot be reached
  } catch (error) {
    await shutDown();
    throw error;
  }
  say(name, 'ready');
}

interface Child {
  name: string;
  process: ChildProcess;
  /** Resolves on the first stdout line containing `text`. */
  saw(text: string): Promise<void>;
  exited: Promise<void>;
}

function startConductor(name: string, prefix: string): Child {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), 'conductor', name, prefix],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines: string[] = [];
  const waiters: { text: string; resolve: () => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    process.stdout.write(`${line}\n`);
    lines.push(line);
    for (const w of waiters.filter((w) => line.includes(w.text))) w.resolve();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    process: child,
    exited,
    saw: (text) =>
      lines.some((l) => l.includes(text))
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ text, resolve })),
  };
}

async function main(): Promise<void> {
  const prefix = `tw-demo-ha:${randomUUID().slice(0, 8)}`;
  const board = redisJobBoard({ redis: REDIS_URL, prefix, unavailableDeadlineMs: REACH_MS });
  // Reach Redis first: without it there is nothing to show (and close what was opened, so the
  // process can exit).
  await board.counts().catch(async (error: unknown) => {
    await board.close();
    throw error;
  });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  const children: Child[] = [];
  try {
    say('main', `board and runs in Redis at ${REDIS_URL}, lease ${LEASE_MS} ms`);
    const conductors = [startConductor('alpha', prefix), startConductor('bravo', prefix)];
    children.push(...conductors);
    await Promise.all(conductors.map((c) => c.saw('ready')));

    await board.post({ flow: 'ha-boot', id: 'boot-web-1', inputs: { server: 'web-1' } });
    say('main', `posted job boot-web-1 (${STEPS.join(' → ')})`);
    const victim = await Promise.race(conductors.map((c) => c.saw('claimed boot-web-1').then(() => c)));
    await victim.saw('running create-port');
    const killedAt = Date.now();
    victim.process.kill('SIGKILL');
    await victim.exited;
    say('main', `SIGKILLed ${victim.name} in the middle of create-port`);

    const job = await board.wait('boot-web-1', { timeoutMs: 30_000 });
    const seconds = ((Date.now() - killedAt) / 1000).toFixed(1);
    say(
      'main',
      `job ${job.id} is ${job.state} (owner ${job.owner}, ${job.takeovers} takeover), ${seconds} s after the kill`,
    );
    say('main', 'what happened, step by step:');
    for (const line of await redis.lrange(`${prefix}:log`, 0, -1)) say('main', `  ${line}`);
    say(
      'main',
      `steps ${victim.name} finished were not run again; the one it was running ran again (same idempotency key)`,
    );

    const survivor = conductors.find((c) => c !== victim)!;
    survivor.process.kill('SIGTERM');
    await survivor.exited;
    if (job.state !== 'COMPLETE') process.exitCode = 1;
  } finally {
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
    await board.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  }
}

async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** Redis out of reach is one line for a person, not a stack trace (exit code 1). */
function fail(error: unknown): void {
  const cause =
    error instanceof StoreUnavailableError && error.cause instanceof Error ? error.cause.message : '';
  process.stderr.write(
    error instanceof StoreUnavailableError
      ? `demo:ha: cannot reach Redis at ${REDIS_URL}${cause ? ` (${cause})` : ''}. Start redis-server or set REDIS_URL.\n`
      : `demo:ha: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
}

// Imported (for its flow's diagram), it runs nothing.
const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && process.argv[2] === 'conductor')
  await conductorProcess(process.argv[3]!, process.argv[4]!).catch(fail);
else if (isMain) await main().catch(fail);

/**
 * A child process for the versions-side-by-side test: a deploy of flow `deploy` from v1 (a → b) to
 * v2 (a → b → c), in two processes.
 *
 *   node --import tsx test/support/versions-child.ts <redisUrl> <prefix> old      # v1 only
 *   node --import tsx test/support/versions-child.ts <redisUrl> <prefix> new      # v1 and v2
 *
 * `old` starts runs v1-a and v1-b (b hangs in both) and v1-c (b fails: the run reverts, and a's
 * revert hangs), prints `PARKED` once all three hang, and waits to be killed.
 * `new` resumes v1-a, reverts v1-b, resumes v1-c, starts `fresh` by name, and prints one JSON line
 * with the results and stored versions. Every execute/revert appends `<code>:<kind>:<task>:<run>` to
 * `<prefix>:log`, where `<code>` names the version whose code ran.
 */
import { Redis } from 'ioredis';
import { createEngine, type Flow, linear, redisStore, task } from '../../src/index.js';

const [url, prefix, mode] = process.argv.slice(2);
if (!url || !prefix || (mode !== 'old' && mode !== 'new')) {
  process.stderr.write('usage: versions-child.ts <redisUrl> <prefix> <old|new>\n');
  process.exit(2);
}

const redis = new Redis(url);
const log = (entry: string) => redis.rpush(`${prefix}:log`, entry);
const hang = () => new Promise<never>(() => {});
let parked = 0;
const park = () => {
  parked += 1;
  if (parked === 3) process.stdout.write('PARKED\n');
  return hang();
};

function deployFlow(code: 'v1' | 'v2'): Flow {
  const step = (name: string, requires: string[], provides: string) =>
    task({
      name,
      requires,
      provides,
      async execute(_args, ctx) {
        await log(`${code}:execute:${name}:${ctx.flowId}`);
        if (mode === 'old' && name === 'b' && ctx.flowId !== 'v1-c') return park();
        if (mode === 'old' && name === 'b') throw new Error('b fails in v1-c');
        return `${name}@${code}`;
      },
      async revert(_args, ctx) {
        await log(`${code}:revert:${name}:${ctx.flowId}`);
        if (mode === 'old' && name === 'a' && ctx.flowId === 'v1-c') await park();
      },
    });
  const tasks = [step('a', ['input'], 'ra'), step('b', ['ra'], 'rb')];
  if (code === 'v2') tasks.push(step('c', ['rb'], 'rc'));
  return linear('deploy', tasks, { version: code === 'v1' ? '1' : '2' });
}

const store = redisStore({ redis: url, prefix });
if (mode === 'old') {
  const engine = createEngine({ store, flows: [deployFlow('v1')] });
  for (const id of ['v1-a', 'v1-b', 'v1-c']) engine.start('deploy', { input: id }, { id });
} else {
  const engine = createEngine({ store, flows: [deployFlow('v1'), deployFlow('v2')] });
  const settled = (p: Promise<unknown>) =>
    p.then(
      (value) => ({ value: value ?? 'done' }),
      (error: Error) => ({ error: error.name }),
    );
  const resumedA = settled((await engine.resume('v1-a')).result);
  const revertedB = settled(engine.revert('v1-b'));
  const resumedC = settled((await engine.resume('v1-c')).result);
  const fresh = settled(engine.run('deploy', { input: 'fresh' }, { id: 'fresh' }));
  const outcome = {
    'v1-a': await resumedA,
    'v1-b': await revertedB,
    'v1-c': await resumedC,
    fresh: await fresh,
    versions: Object.fromEntries(
      await Promise.all(
        ['v1-a', 'v1-b', 'v1-c', 'fresh'].map(async (id) => {
          const info = await engine.get(id);
          return [id, `${info?.meta.version} ${info?.meta.status}`];
        }),
      ),
    ),
  };
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
  await engine.close();
  redis.disconnect();
}

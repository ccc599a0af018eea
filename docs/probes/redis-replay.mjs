/**
 * Replay a recorded Redis command stream, with the scripts of another checkout, to count what Redis
 * executes for it: Redis's CPU time swings with a shared machine's load, its instruction count under
 * callgrind does not (±0.7 % between runs of one stream), so two checkouts' scripts can be compared on
 * the very same commands.
 *
 *   redis-cli -p 6391 monitor > stream.txt &    # record: e.g. while docs/probes/job-redis-cpu.mjs runs
 *   valgrind --tool=callgrind --callgrind-out-file=cg.out redis-server --port 6392 --save '' &
 *   node docs/probes/redis-replay.mjs stream.txt redis://127.0.0.1:6392 <recorded tree> [<measured tree>]
 *   redis-cli -p 6392 shutdown nosave; callgrind_annotate cg.out | grep TOTALS
 *
 * (Run it once on an empty stream for the server's start-up instructions, and subtract them.)
 *
 * The top-level commands of the MONITOR log (not those run inside scripts, nor reads of the server's own
 * state such as INFO or blocking waits) are sent in order, 100 per pipeline, to a fresh server. An
 * EVALSHA of a script of the recorded tree (found by its name in `dist/`) runs the measured tree's
 * script of the same name instead: valid only while the two agree on the script's KEYS and ARGV. The
 * replay starts from an empty database, as the recording should (so fencing and versions line up);
 * it prints how many commands it sent and how many failed.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const [logFile, url, recordedArg, measuredArg] = process.argv.slice(2);
if (!logFile || !url || !recordedArg) {
  console.error('usage: redis-replay.mjs <monitor log> <redis url> <recorded tree> [<measured tree>]');
  process.exit(2);
}
const recorded = resolve(recordedArg);
const measured = resolve(measuredArg ?? recordedArg);
const Redis = (await import(`${measured}/node_modules/ioredis/built/index.js`)).default;

/** A tree's Lua scripts by name (the `name` and `lua` of each script constant in dist/). */
async function scripts(tree) {
  const found = new Map();
  for (const dir of ['store/lua', 'jobs/lua', 'lifecycle/lua']) {
    let files = [];
    try {
      files = readdirSync(`${tree}/dist/src/${dir}`).filter((f) => f.endsWith('.lua.js'));
    } catch {
      continue;
    }
    for (const file of files) {
      for (const value of Object.values(await import(`${tree}/dist/src/${dir}/${file}`))) {
        if (value && typeof value.lua === 'string') found.set(value.name, value.lua);
      }
    }
  }
  return found;
}
const sha1 = (text) => createHash('sha1').update(text).digest('hex');
const recordedNames = new Map([...(await scripts(recorded))].map(([name, lua]) => [sha1(lua), name]));
const measuredScripts = await scripts(measured);

/** The quoted arguments of a MONITOR line, unescaped (MONITOR writes \", \\, \n, \xNN ...). */
function monitorArgs(text) {
  const args = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '"') {
      i++;
      continue;
    }
    i++;
    const bytes = [];
    while (text[i] !== '"') {
      if (text[i] === '\\') {
        const c = text[i + 1];
        if (c === 'x') {
          bytes.push(Number.parseInt(text.slice(i + 2, i + 4), 16));
          i += 4;
          continue;
        }
        bytes.push({ n: 10, r: 13, t: 9, a: 7, b: 8, '"': 34, '\\': 92 }[c] ?? c.charCodeAt(0));
        i += 2;
        continue;
      }
      bytes.push(...Buffer.from(text[i]));
      i++;
    }
    i++;
    args.push(Buffer.from(bytes));
  }
  return args;
}

// Reads of the server's state and waits: they measure nothing of the workload and could block.
const skipped = new Set([
  'monitor',
  'info',
  'quit',
  'keys',
  'scan',
  'blpop',
  'brpop',
  'xread',
  'client',
  'select',
  'command',
  'hello',
  'script',
  'subscribe',
  'psubscribe',
  'unsubscribe',
  'ping',
  'config',
  'slowlog',
  'function',
]);
const commands = [];
for (const line of readFileSync(logFile, 'latin1').split('\n')) {
  const m = /^[\d.]+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
  if (!m || m[1] === 'lua') continue;
  const [name, ...args] = monitorArgs(Buffer.from(m[2], 'latin1').toString('utf8'));
  const command = name.toString().toLowerCase();
  if (!skipped.has(command)) commands.push([command, args]);
}

const redis = new Redis(url);
const shaOf = new Map();
for (const [name, lua] of measuredScripts) shaOf.set(name, await redis.script('load', lua));
let failed = 0;
for (let i = 0; i < commands.length; i += 100) {
  const pipeline = redis.pipeline();
  for (const [command, args] of commands.slice(i, i + 100)) {
    const name = command === 'evalsha' ? recordedNames.get(args[0].toString()) : undefined;
    if (name && shaOf.has(name)) pipeline.call('evalsha', shaOf.get(name), ...args.slice(1));
    else pipeline.call(command, ...args);
  }
  for (const [error] of await pipeline.exec()) if (error) failed++;
}
console.log(JSON.stringify({ commands: commands.length, failed }));
await redis.quit();

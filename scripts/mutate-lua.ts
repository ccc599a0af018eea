/**
 * `npm run mutate:lua`: hand mutants of the Lua scripts, which Stryker cannot mutate (they are strings).
 * Each mutant is one textual change to one script (a dropped token check, a version check off by one,
 * a lease cutoff moved, a takeover counted wrong); the script applies it, runs the contract suites that
 * should notice, records killed (the suites failed) or survived, and puts the file back as it was.
 *
 * The file is restored after each mutant, on an error, and on Ctrl-C / SIGTERM; a copy of the original
 * is kept in reports/mutation/lua-backup.json while a mutant is applied, and the next run restores from
 * it first (should this process have been killed with SIGKILL).
 *
 * Usage: npm run mutate:lua [-- <mutant id>...]    Needs Redis (as `npm test` does).
 * Writes reports/mutation/lua.json and prints a table.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface HandMutant {
  id: string;
  /** What the mutant breaks, in a user's words. */
  what: string;
  /** The script's file; `*` stands for its key count, which changes when a script gains keys. */
  file: string;
  /** Exact text to replace (must occur exactly once in the file). */
  find: string;
  replace: string;
  /** Test files that should kill it. */
  suites: string[];
}

const STORE_SUITES = ['test/integration/store-redis.test.ts', 'test/integration/engine-fencing.test.ts'];
const BOARD_SUITES = ['test/integration/job-board-redis.test.ts'];
const DISTRIBUTED_SUITES = [
  'test/integration/distributed-basics.test.ts',
  'test/integration/distributed-liveness.test.ts',
];

const MUTANTS: HandMutant[] = [
  {
    id: 'save-token',
    what: 'saveRun: a write with a stale fencing token is applied',
    file: 'src/store/lua/saveRun-*.lua.ts',
    find: "if meta[2] ~= ARGV[2] then return {'LEASE', meta[2]} end",
    replace: '-- mutant: no token check',
    suites: STORE_SUITES,
  },
  {
    id: 'save-version',
    what: 'saveRun: a write that skips a version is applied (seq + 1 check loosened to >=)',
    file: 'src/store/lua/saveRun-*.lua.ts',
    find: "if wanted ~= seq + 1 then return {'VERSION', seq} end",
    replace: "if wanted < seq + 1 then return {'VERSION', seq} end",
    suites: STORE_SUITES,
  },
  {
    id: 'save-replay',
    what: 'saveRun: any write at the stored version is taken for a replay of the last one (content unchecked)',
    file: 'src/store/lua/saveRun-*.lua.ts',
    find: "if wanted == seq and holdsWrite(4, 15, n, d) then return {'REPLAY'} end",
    replace: "if wanted == seq then return {'REPLAY'} end",
    suites: STORE_SUITES,
  },
  {
    id: 'save-history-seq',
    what: "saveRun: a write's history events are numbered from 1 again instead of after the last one",
    file: 'src/store/lua/saveRun-*.lua.ts',
    find: 'appendEvents(tonumber(meta[6]) or 0, 15 + 2 * n + d)',
    replace: 'appendEvents(0, 15 + 2 * n + d)',
    suites: STORE_SUITES,
  },
  {
    id: 'delete-history',
    what: "deleteRun: a run's history is left behind when the run is deleted",
    file: 'src/store/lua/deleteRun-*.lua.ts',
    find: "redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])",
    replace: "redis.call('DEL', KEYS[1], KEYS[2])",
    suites: STORE_SUITES,
  },
  {
    id: 'claim-run-token',
    what: 'claimRun: taking a run over does not raise its fencing token',
    file: 'src/store/lua/claimRun-*.lua.ts',
    find: "redis.call('HINCRBY', KEYS[1], 'token', 1)",
    replace: "redis.call('HINCRBY', KEYS[1], 'token', 0)",
    suites: STORE_SUITES,
  },
  {
    id: 'job-token',
    what: 'complete/fail/release: a stale claim token is accepted',
    file: 'src/jobs/lua/check-job.lua.ts',
    find: "if job.state ~= 'CLAIMED' or job.token ~= token then return nil",
    replace: "if job.state ~= 'CLAIMED' then return nil",
    suites: BOARD_SUITES,
  },
  {
    id: 'renew-token',
    what: 'renewLease: a stale claim token renews the lease',
    file: 'src/jobs/lua/renewLease-*.lua.ts',
    find: 'job.token ~= tonumber(ARGV[3]) or ',
    replace: '',
    suites: BOARD_SUITES,
  },
  {
    id: 'renew-owner',
    what: 'renewLease: another owner with the current token renews the lease',
    file: 'src/jobs/lua/renewLease-*.lua.ts',
    find: ' or job.owner ~= ARGV[2] then',
    replace: ' then',
    suites: BOARD_SUITES,
  },
  {
    id: 'lease-cutoff',
    what: 'claimNext: a lease is taken over before it expired (cutoff a lease later)',
    file: 'src/jobs/lua/claim-next.lua.ts',
    find: "redis.call('ZRANGEBYSCORE', c.leases, '-inf', now, 'LIMIT', 0, 1)",
    replace: "redis.call('ZRANGEBYSCORE', c.leases, '-inf', leaseUntil, 'LIMIT', 0, 1)",
    suites: BOARD_SUITES,
  },
  {
    id: 'takeover-priority',
    what: 'claimNext: an expired job of the same priority waits behind new jobs (>= tightened to >)',
    file: 'src/jobs/lua/claim-next.lua.ts',
    find: 'if #head == 0 or job.priority >= -tonumber(head[2]) then',
    replace: 'if #head == 0 or job.priority > -tonumber(head[2]) then',
    suites: BOARD_SUITES,
  },
  {
    id: 'complete-lease',
    what: 'completeJob: the finished job stays in the lease index',
    file: 'src/jobs/lua/completeJob-*.lua.ts',
    find: "dropLease(KEYS[2], KEYS[1], ARGV[2], 'error')",
    replace: '-- mutant: lease kept',
    suites: BOARD_SUITES,
  },
  {
    id: 'takeover-limit',
    what: 'claimNext: one takeover more than maxTakeovers (>= loosened to >)',
    file: 'src/jobs/lua/claim-next.lua.ts',
    find: 'if job.takeovers >= maxTakeovers then',
    replace: 'if job.takeovers > maxTakeovers then',
    suites: BOARD_SUITES,
  },
  {
    id: 'takeover-count',
    what: 'claimNext: a takeover is not counted',
    file: 'src/jobs/lua/claim-next.lua.ts',
    find: "redis.call('HINCRBY', key, 'takeovers', 1)",
    replace: "redis.call('HINCRBY', key, 'takeovers', 0)",
    suites: BOARD_SUITES,
  },
  {
    id: 'step-version',
    what: 'dispatchRun: a distributed step written on a stale version is applied (two workers, one lost update)',
    file: 'src/store/lua/dispatchRun.lua.ts',
    find: "if tonumber(ARGV[4]) ~= tonumber(meta[2]) + 1 then return {'VERSION', meta[2]} end",
    replace: "if tonumber(ARGV[4]) > tonumber(meta[2]) + 1 then return {'VERSION', meta[2]} end",
    suites: DISTRIBUTED_SUITES,
  },
  {
    id: 'step-fenced',
    what: 'dispatchRun: a worker whose message was re-delivered to another still records its outcome',
    file: 'src/store/lua/dispatchRun.lua.ts',
    find: "if not ok or #pending == 0 or pending[1][2] ~= ARGV[tail + 2] then return {'FENCED'} end",
    replace: '-- mutant: no fence on the message',
    suites: DISTRIBUTED_SUITES,
  },
  {
    id: 'outbox-late',
    what: 'outbox: a step whose entry a sweep marked abandoned is still written (its messages never sent)',
    file: 'src/store/lua/outbox.lua.ts',
    find: "if redis.call('EXISTS', KEYS[4]) == 1 then return {'LATE'} end",
    replace: '-- mutant: no late check',
    suites: ['test/integration/distributed-redis-cluster.test.ts'],
  },
];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const reportDir = resolve(root, 'reports/mutation');
const backupFile = resolve(reportDir, 'lua-backup.json');
/** The longest one mutant's suites may run (a mutant that hangs a test counts as killed by timeout). */
const SUITE_TIMEOUT_MS = 5 * 60_000;

type Outcome = 'killed' | 'survived' | 'timeout' | 'not applied';
interface Result {
  id: string;
  what: string;
  file: string;
  outcome: Outcome;
  seconds: number;
  detail?: string;
}

/** The file being mutated and its original text, while a mutant is applied. */
let applied: { path: string; original: string } | undefined;
let child: ReturnType<typeof spawn> | undefined;

function stopChild(): void {
  if (child?.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

function restore(): void {
  if (applied) {
    writeFileSync(applied.path, applied.original);
    applied = undefined;
  }
  rmSync(backupFile, { force: true });
}

/** A run killed without cleanup (SIGKILL, power) left a mutant in place: put the original back first. */
function restoreLeftover(): void {
  if (!existsSync(backupFile)) return;
  const { path, original } = JSON.parse(readFileSync(backupFile, 'utf8')) as {
    path: string;
    original: string;
  };
  writeFileSync(path, original);
  rmSync(backupFile);
  console.log(`restored ${path} from a previous run that did not finish`);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    stopChild();
    const file = applied?.path;
    restore();
    console.error(`\n${signal}: stopping${file ? `; ${file} restored` : ''}.`);
    process.exit(130);
  });
}
process.on('exit', restore);

function runSuites(suites: string[]): Promise<{ code: number | null; timedOut: boolean; tail: string }> {
  return new Promise((done) => {
    let output = '';
    // Its own process group, so stopping it stops vitest's workers too.
    child = spawn(
      resolve(root, 'node_modules/.bin/vitest'),
      ['run', ...suites, '--maxWorkers=1', '--bail=1'],
      {
        cwd: root,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      },
    );
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stopChild();
    }, SUITE_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      child = undefined;
      done({ code, timedOut, tail: output });
    });
  });
}

/** The first failing test's name, for the report. */
function firstFailure(output: string): string | undefined {
  const line = output.split('\n').find((l) => /^\s*(×|FAIL)\s/.test(l));
  return line?.trim().slice(0, 200);
}

async function main(): Promise<void> {
  mkdirSync(reportDir, { recursive: true });
  restoreLeftover();
  const only = process.argv.slice(2);
  const chosen = only.length > 0 ? MUTANTS.filter((m) => only.includes(m.id)) : MUTANTS;
  if (chosen.length === 0)
    throw new Error(`No such mutant: ${only.join(', ')}. Known: ${MUTANTS.map((m) => m.id).join(', ')}`);
  const results: Result[] = [];
  for (const mutant of chosen) {
    const path = scriptFile(mutant.file);
    const original = path === undefined ? '' : readFileSync(path, 'utf8');
    const count = original.split(mutant.find).length - 1;
    const started = Date.now();
    if (path === undefined || count !== 1) {
      // The script changed since the mutant was written: say so rather than test something else.
      const detail = path === undefined ? 'no such script' : `anchor found ${count} times`;
      results.push({ ...pick(mutant), outcome: 'not applied', seconds: 0, detail });
      console.log(`${mutant.id}: NOT APPLIED (${detail}: ${mutant.file}; update scripts/mutate-lua.ts)`);
      continue;
    }
    writeFileSync(backupFile, JSON.stringify({ path, original }));
    applied = { path, original };
    writeFileSync(path, original.replace(mutant.find, mutant.replace));
    process.stdout.write(`${mutant.id}: ${mutant.what} ... `);
    let run: Awaited<ReturnType<typeof runSuites>>;
    try {
      run = await runSuites(mutant.suites);
    } finally {
      restore();
    }
    const outcome: Outcome = run.timedOut ? 'timeout' : run.code === 0 ? 'survived' : 'killed';
    const seconds = Math.round((Date.now() - started) / 1000);
    const detail = outcome === 'killed' ? firstFailure(run.tail) : undefined;
    results.push({ ...pick(mutant), outcome, seconds, ...(detail ? { detail } : {}) });
    console.log(`${outcome.toUpperCase()} (${seconds} s)${detail ? ` by ${detail}` : ''}`);
  }
  const killed = results.filter((r) => r.outcome === 'killed' || r.outcome === 'timeout').length;
  const tested = results.filter((r) => r.outcome !== 'not applied').length;
  writeFileSync(
    resolve(reportDir, 'lua.json'),
    `${JSON.stringify({ at: new Date().toISOString(), killed, tested, results }, null, 2)}\n`,
  );
  console.log(`\nLua hand mutants: ${killed} of ${tested} killed. Report: reports/mutation/lua.json`);
  for (const r of results) console.log(`  ${r.outcome.padEnd(11)} ${r.id.padEnd(16)} ${r.what}`);
  if (results.some((r) => r.outcome === 'not applied')) process.exitCode = 1;
}

/** The one file matching `file` (its `*` standing for the key count), or undefined. */
function scriptFile(file: string): string | undefined {
  const dir = resolve(root, dirname(file));
  const [before, after = ''] = basename(file).split('*');
  const found = readdirSync(dir).filter(
    (name) =>
      name.startsWith(before!) &&
      name.endsWith(after) &&
      /^\d*$/.test(name.slice(before!.length, name.length - after.length)),
  );
  return found.length === 1 ? resolve(dir, found[0]!) : undefined;
}

function pick(m: HandMutant): Pick<Result, 'id' | 'what' | 'file'> {
  return { id: m.id, what: m.what, file: m.file };
}

main().catch((error: unknown) => {
  restore();
  console.error(error);
  process.exit(1);
});

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { runBatch } from './engine.js';
import { deleteKeys } from './redis.js';
import { fan } from './shapes.js';
import { taskweave } from './taskweave.js';

const { createConductor, createEngine, redisJobBoard, redisStore } = taskweave;

/**
 * The job path against a direct run, in this process on one Redis: fan10 runs, 200 at once, either
 * `engine.run` directly or posted to a job board (`board.post`) and run by a conductor (concurrency
 * 200) on the same engine, the time running until the board counts every job COMPLETE. The two
 * alternate repetition by repetition; tasks/s of each.
 */
export interface JobPathFigures {
  runs: number;
  direct: number[];
  jobs: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function jobPath(url: string, opts: { runs: number; reps: number }): Promise<JobPathFigures> {
  const prefix = `twjobs-${randomBytes(4).toString('hex')}`;
  const flow = fan(10);
  const store = redisStore({ redis: url, prefix });
  const board = redisJobBoard({ redis: url, prefix });
  const engine = createEngine({ store, flows: [flow] });
  const conductor = createConductor({ board, engine, concurrency: 200 });
  await conductor.start();
  const viaJobs = async (runs: number) => {
    const t0 = performance.now();
    const base = (await board.counts()).COMPLETE;
    await Promise.all(Array.from({ length: runs }, () => board.post({ flow: flow.name })));
    while ((await board.counts()).COMPLETE < base + runs) await sleep(5);
    return performance.now() - t0;
  };
  const out: JobPathFigures = { runs: opts.runs, direct: [], jobs: [] };
  try {
    await runBatch(engine, flow, opts.runs, 200);
    await viaJobs(opts.runs);
    for (let rep = 0; rep < opts.reps; rep++) {
      out.direct.push((opts.runs * 10) / ((await runBatch(engine, flow, opts.runs, 200)) / 1000));
      out.jobs.push((opts.runs * 10) / ((await viaJobs(opts.runs)) / 1000));
    }
  } finally {
    await conductor.stop({ drain: true });
    await engine.close();
    await store.close();
    await board.close();
    const admin = new Redis(url);
    await deleteKeys(admin, [`{${prefix}:*`, `{${prefix}}:*`, `${prefix}:*`]);
    admin.disconnect();
  }
  return out;
}

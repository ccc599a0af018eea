import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DBOS } from '@dbos-inc/dbos-sdk';
import pg from 'pg';
import type { Shape } from './redis.js';

/**
 * The same DAGs as DBOS Transact workflows (`@dbos-inc/dbos-sdk`) in this process, on PostgreSQL.
 *
 * - chain10: one workflow running 10 steps one after another.
 * - fan10: one workflow: step `start`, then 8 steps at once (`Promise.all`), then step `join`.
 * Steps return at once, like the bench's tasks. DBOS checkpoints each step's output and the workflow's
 * status in its system database: a committed PostgreSQL transaction per checkpoint.
 *
 * The bench creates its own database (`twbench_<hex>`) with `synchronous_commit = on` set on it, so
 * every acknowledged checkpoint is fsynced to the WAL (the server's `fsync` is reported alongside),
 * and drops it on `close()`. DBOS keeps its defaults otherwise (system database pool of 10).
 */
export const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface DbosBench {
  batch(shape: Shape, runs: number, inFlight: number): Promise<number>;
  readonly settings: { fsync: string; synchronousCommit: string; version: string; dbosVersion: string };
  close(): Promise<void>;
}

const step = (name: string) => DBOS.runStep(async () => name, { name });

export async function openDbos(dbosVersion: string): Promise<DbosBench> {
  const database = `twbench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.query(`ALTER DATABASE ${database} SET synchronous_commit = on`);
  const url = new URL(PG_URL);
  url.pathname = `/${database}`;

  const workflows = {
    chain10: DBOS.registerWorkflow(
      async () => {
        for (let i = 0; i < 10; i++) await step(`t${i}`);
        return 'done';
      },
      { name: 'chain10' },
    ),
    fan10: DBOS.registerWorkflow(
      async () => {
        await step('start');
        await Promise.all(Array.from({ length: 8 }, (_, i) => step(`m${i}`)));
        await step('join');
        return 'done';
      },
      { name: 'fan10' },
    ),
  };
  DBOS.setConfig({ name: 'twbench', systemDatabaseUrl: url.toString(), logLevel: 'error' });
  await DBOS.launch();

  const probe = new pg.Client({ connectionString: url.toString() });
  await probe.connect();
  const show = async (setting: string) =>
    String(((await probe.query(`SHOW ${setting}`)).rows[0] as Record<string, unknown>)[setting]);
  const settings = {
    fsync: await show('fsync'),
    synchronousCommit: await show('synchronous_commit'),
    version: await show('server_version'),
    dbosVersion,
  };
  await probe.end();

  let closed = false;
  return {
    settings,
    async batch(shape, runs, inFlight) {
      const wf = workflows[shape];
      const t0 = performance.now();
      if (inFlight >= runs) {
        await Promise.all(Array.from({ length: runs }, () => wf()));
      } else {
        let next = 0;
        const worker = async () => {
          while (next < runs) {
            next += 1;
            await wf();
          }
        };
        await Promise.all(Array.from({ length: inFlight }, worker));
      }
      return performance.now() - t0;
    },
    async close() {
      if (closed) return;
      closed = true;
      await DBOS.shutdown();
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dbos = await openDbos('?');
  try {
    console.log(dbos.settings);
    for (const [shape, runs, inFlight] of [
      ['fan10', 200, 200],
      ['chain10', 200, 200],
      ['chain10', 50, 1],
    ] as const) {
      await dbos.batch(shape, runs, inFlight);
      const ms = await dbos.batch(shape, runs, inFlight);
      console.log(
        `${shape} × ${runs}, ${inFlight} in flight: ${((runs * 10) / (ms / 1000)).toFixed(0)} tasks/s`,
      );
    }
  } finally {
    await dbos.close();
  }
}

import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEngine, type Engine } from '../engine/engine.js';
import { InvalidOptionError } from '../errors.js';
import type { Flow } from '../flow/types.js';
import { JOB_STATES, type JobBoard } from '../jobs/job-board.js';
import { isFinished, RUN_STATUSES, type RunStatus } from '../model/run-status.js';
import type { RunMeta, Store } from '../store/store.js';
import { CSS, RUN_JS } from './assets.js';
import { runPage, runsPage } from './pages.js';

export interface DashboardOptions {
  /** Where the runs are (the dashboard never closes it). */
  store: Store;
  /** Jobs are listed, and a job's run is cancelled through it, when given. */
  board?: JobBoard;
  /** @default 8085 (0 picks a free port) */
  port?: number;
  /** @default '127.0.0.1'; any other address requires `token` */
  host?: string;
  /** Every request must carry `Authorization: Bearer <token>` (or `?token=` once, which sets a cookie). */
  token?: string;
  /** Flows the dashboard can resume, revert and cancel runs of; without them it is read-only. */
  flows?: readonly Flow[];
}

export interface Dashboard {
  /** `http://host:port` */
  readonly url: string;
  /** The engine the dashboard reads and acts with (its id is the owner of runs it takes over). */
  readonly engine: Engine;
  /** Stop serving; ends live streams; runs the dashboard took over are left stored (resumable). */
  close(): Promise<void>;
}

/** A dashboard option that cannot work (no token beyond loopback): an InvalidOptionError, as every bad option. */
export class DashboardOptionError extends InvalidOptionError {}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const COOKIE = 'taskweave_token';

/**
 * Serve the dashboard: runs and jobs by state, and a live page per run (its flow as a graph whose task
 * states follow the stored events, its timeline, failures, and resume / revert / cancel when given
 * `flows`). Everything it serves ships in the package: it works with no internet.
 *
 * @example
 * const dashboard = await createDashboard({ store: redisStore({ redis }), board, flows: [bootServer] });
 * console.log(`open ${dashboard.url}`);
 */
export async function createDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8085;
  const token = options.token;
  if (!LOOPBACK.has(host) && !token) {
    throw new DashboardOptionError(
      'token',
      `a secret to serve the dashboard on ${host} (beyond loopback)`,
      token,
      'none. Pass --token <secret> (or createDashboard({ token })), or bind to 127.0.0.1.',
    );
  }
  const engine = createEngine({ store: options.store, flows: options.flows ?? [], closeStore: false });
  const streams = new Set<AbortController>();

  const authorised = (req: IncomingMessage, url: URL, res: ServerResponse): boolean => {
    if (!token) return true;
    const given =
      req.headers.authorization?.replace(/^Bearer\s+/i, '') ??
      url.searchParams.get('token') ??
      cookie(req.headers.cookie, COOKIE);
    if (given === undefined || given === null || !same(given, token)) {
      send(res, 401, 'text/plain; charset=utf-8', 'Unauthorized: send Authorization: Bearer <token>.\n', {
        'www-authenticate': 'Bearer',
      });
      return false;
    }
    // A token given in the URL (a link to open in a browser) becomes a cookie for the page's own requests.
    if (url.searchParams.has('token')) {
      res.setHeader(
        'set-cookie',
        `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
      );
    }
    return true;
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (!authorised(req, url, res)) return;
    handle(req, res, url).catch((error: Error) => {
      if (!res.headersSent) sendJson(res, 500, { message: error.message });
      else res.end();
    });
  });

  const handle = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const path = url.pathname;
    if (req.method === 'GET' && path === '/assets/dashboard.css')
      return send(res, 200, 'text/css; charset=utf-8', CSS);
    if (req.method === 'GET' && path === '/assets/run.js')
      return send(res, 200, 'text/javascript; charset=utf-8', RUN_JS);
    if (req.method === 'GET' && path === '/')
      return send(res, 200, 'text/html; charset=utf-8', await listPage(url));
    if (req.method === 'GET' && path === '/api/runs')
      return sendJson(res, 200, await options.store.list({ limit: 500 }));
    const match = /^\/(api\/)?runs\/([^/]+)(?:\/(events|resume|revert|cancel))?$/.exec(path);
    if (!match) return send(res, 404, 'text/plain; charset=utf-8', 'Not found.\n');
    const id = decodeURIComponent(match[2]!);
    const action = match[3];
    if (req.method === 'GET' && action === 'events') return events(req, res, id, url);
    if (req.method === 'POST' && action)
      return act(res, id, action as 'resume' | 'revert' | 'cancel', url.searchParams.get('force') === '1');
    if (req.method !== 'GET' || action)
      return send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed.\n');
    const info = await engine.get(id).catch((error: Error) => error);
    if (info === undefined)
      return send(res, 404, 'text/plain; charset=utf-8', `No run ${id} in this store.\n`);
    if (info instanceof Error) return send(res, 500, 'text/plain; charset=utf-8', `${info.message}\n`);
    if (match[1]) return sendJson(res, 200, info);
    const job = await options.board?.get(id).catch(() => undefined);
    return send(
      res,
      200,
      'text/html; charset=utf-8',
      runPage({ info, job, canAct: (options.flows?.length ?? 0) > 0, engineId: engine.id, now: Date.now() }),
    );
  };

  const listPage = async (url: URL) => {
    const status = RUN_STATUSES.find((s) => s === url.searchParams.get('status')) as RunStatus | undefined;
    const flow = url.searchParams.get('flow') || undefined;
    // Jobs by state too (`?job=<STATE>`), and of the flow filtered on.
    const jobState = JOB_STATES.find((s) => s === url.searchParams.get('job'));
    const { board } = options;
    // Runs, jobs and their counts are independent reads: one round trip's wait, not three.
    const [listed, jobList, jobCounts] = await Promise.all([
      options.store.list({ limit: 1000, ...(flow ? { flow } : {}) }),
      board?.list({ limit: 200, ...(jobState ? { state: jobState } : {}) }),
      board?.counts(),
    ]);
    const all = listed as (RunMeta & { corrupt?: string })[];
    const counts: Record<string, number> = {};
    for (const r of all) {
      const key = r.corrupt !== undefined ? 'CORRUPT' : r.status;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    const runs = status ? all.filter((r) => r.status === status && r.corrupt === undefined) : all;
    const jobs =
      jobList && jobCounts
        ? { list: jobList.filter((j) => !flow || j.flow === flow), counts: jobCounts, state: jobState }
        : undefined;
    return runsPage({ runs: runs.slice(0, 200), counts, status, flow, jobs, now: Date.now() });
  };

  /**
   * Server-sent events fed by engine.watch: past events first (after `?from=<seq>`, or the browser's
   * Last-Event-ID when it reconnects), then live ones; `end` when the run ends.
   */
  const events = async (req: IncomingMessage, res: ServerResponse, id: string, url: URL) => {
    if (!(await options.store.load(id)))
      return send(res, 404, 'text/plain; charset=utf-8', `No run ${id}.\n`);
    const after = Number(url.searchParams.get('from') ?? req.headers['last-event-id'] ?? 0);
    const from = Number.isInteger(after) && after > 0 ? after : 0;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write(': watching\n\n');
    const controller = new AbortController();
    streams.add(controller);
    req.on('close', () => controller.abort());
    try {
      for await (const event of engine.watch(id, { from, signal: controller.signal })) {
        res.write(`id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`);
      }
      if (!controller.signal.aborted) res.write('event: end\ndata: {}\n\n');
    } catch {
      // The watch ended with the engine or the connection: the page reconnects or reloads.
    } finally {
      streams.delete(controller);
      res.end();
    }
  };

  const act = async (
    res: ServerResponse,
    id: string,
    action: 'resume' | 'revert' | 'cancel',
    force: boolean,
  ) => {
    if (!options.flows?.length) {
      return sendJson(res, 403, {
        message: 'Read-only dashboard: start it with --flows <module> to act on runs.',
      });
    }
    const stored = await options.store.load(id);
    if (!stored) return sendJson(res, 404, { message: `No run ${id}.` });
    const { meta } = stored;
    const activeHere = meta.owner === engine.id;
    if (action === 'cancel' && isFinished(meta.status)) {
      return sendJson(res, 409, {
        message: `Run ${id} already ended ${meta.status}; use Revert to roll it back.`,
      });
    }
    if (action === 'cancel' && options.board) {
      const job = await options.board.get(id);
      if (job && (job.state === 'CLAIMED' || job.state === 'UNCLAIMED')) {
        await options.board.cancel(id);
        return sendJson(res, 202, {
          message: `Job ${id} cancelled: its conductor reverts the run at its next lease renewal.`,
        });
      }
    }
    const held =
      !isFinished(meta.status) && meta.status !== 'SUSPENDED' && meta.owner !== undefined && !activeHere;
    if (held && !force) {
      return sendJson(res, 409, {
        owner: meta.owner,
        message: `Run ${id} is ${meta.status}, held by ${meta.owner}. Taking it over stops that engine's work on it at its next write.`,
      });
    }
    if (action === 'resume') {
      const run = await engine.resume(id);
      void run.result.catch(() => {});
      return sendJson(res, 202, { message: `Resumed ${id} here (${engine.id}).` });
    }
    // Cancel of a run not on the board, and revert: take the run over and roll back what ran.
    const done = engine.revert(id);
    void done.catch(() => {});
    return sendJson(res, 202, {
      message: action === 'cancel' ? `Cancelling ${id}: reverting what ran.` : `Reverting ${id}.`,
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${shown}:${address.port}`,
    engine,
    close() {
      closed ??= (async () => {
        for (const stream of streams) stream.abort();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await engine.close();
      })();
      return closed;
    },
  };
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

/** Compare secrets in constant time. */
function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

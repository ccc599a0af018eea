import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A `redis-server` process owned by a test: its own port and directory, stopped by `stop()`. */
export interface OwnedRedis {
  port: number;
  url: string;
  dir: string;
  process: ChildProcess;
  /** SIGKILL the server (data not in AOF is lost); `start()` it again on the same port and dir. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A Redis URL nothing answers at, ever: port 1 (tcpmux) is below the ports the OS hands out and no
 * service here listens on it, so a connection is refused. A port `freePort` found free can be taken a
 * moment later by a redis-server another test starts (seen: a demo then reached a Cluster node).
 */
export const DEAD_REDIS_URL = 'redis://127.0.0.1:1';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves true when something answers PING with PONG at host:port. */
export function pingRedis(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

export async function waitForRedis(port: number, deadlineMs = 10_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (await pingRedis('127.0.0.1', port, 200)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis-server on 127.0.0.1:${port} did not answer PING within ${deadlineMs} ms`);
}

/**
 * Start a `redis-server` on a free loopback port. Extra args are passed through,
 * e.g. `['--appendonly', 'yes', '--appendfsync', 'always']` or `['--cluster-enabled', 'yes']`.
 */
export async function startRedis(args: string[] = [], port?: number): Promise<OwnedRedis> {
  const chosen = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), `tw-redis-${chosen}-`));
  const launch = () =>
    spawn(
      'redis-server',
      [
        '--port',
        String(chosen),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--dir',
        dir,
        '--daemonize',
        'no',
        ...args,
      ],
      { stdio: 'ignore' },
    );
  const owned: OwnedRedis = {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    dir,
    process: launch(),
    async kill() {
      await killAndWait(owned.process);
    },
    async start() {
      owned.process = launch();
      await waitForRedis(chosen);
    },
    async stop() {
      await killAndWait(owned.process);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await waitForRedis(chosen);
  return owned;
}

function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/**
 * A cluster-enabled `redis-server` that holds every slot itself: a one-node Redis Cluster (what a
 * single-shard managed cluster or some proxies look like to a client).
 */
export async function startOneNodeCluster(): Promise<OwnedRedis> {
  const server = await startRedis(['--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1']);
  const admin = new Redis(server.port, '127.0.0.1');
  try {
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    const until = Date.now() + 10_000;
    while (!String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) {
      if (Date.now() > until) throw new Error('one-node cluster did not reach cluster_state:ok within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    admin.disconnect();
  }
  return server;
}

import { createHash } from 'node:crypto';
import type { RedisClient } from './client.js';

/**
 * A Lua script as taskweave ships it: the run store's, the distributed queues', the job board's and
 * the lifecycle store's scripts are all run by `runScript` below, the one way taskweave runs a script.
 */
export interface LuaScript<Name extends string = string> {
  readonly name: Name;
  readonly lua: string;
  /** Its fixed key count, checked on each call; absent for a script with optional keys (status indexes). */
  readonly numberOfKeys?: number;
}

const shas = new WeakMap<LuaScript, string>();

/**
 * EVALSHA, falling back to EVAL when the server does not know the script yet (first use, a restart,
 * SCRIPT FLUSH, another cluster node). Unlike ioredis' `defineCommand` this adds nothing to a client
 * the user passed in. In a Cluster, ioredis routes by the first key: a script's keys share one slot.
 */
export async function runScript(
  redis: RedisClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  if (script.numberOfKeys !== undefined && keys.length !== script.numberOfKeys) {
    throw new Error(
      `${script.name}-${script.numberOfKeys} expects ${script.numberOfKeys} keys, got ${keys.length}`,
    );
  }
  let sha = shas.get(script);
  if (sha === undefined) {
    sha = createHash('sha1').update(script.lua).digest('hex');
    shas.set(script, sha);
  }
  try {
    return await redis.evalsha(sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return redis.eval(script.lua, keys.length, ...keys, ...args);
  }
}

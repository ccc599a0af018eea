import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

export interface LuaScript {
  readonly name: string;
  readonly numberOfKeys: number;
  readonly lua: string;
}

const shas = new WeakMap<LuaScript, string>();

/**
 * EVALSHA, falling back to EVAL when the server does not know the script yet (first use, a restart,
 * SCRIPT FLUSH, another cluster node). Unlike `defineCommand` this adds nothing to a client the user
 * passed in. In a Cluster, ioredis routes by the first key: all of a board's keys share one slot.
 */
export async function runScript(
  redis: Redis | Cluster,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  if (keys.length !== script.numberOfKeys) {
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

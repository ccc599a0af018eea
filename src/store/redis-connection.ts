import type { RedisClient } from '../redis/client.js';
import {
  type RedisConnection as GenericConnection,
  openConnection,
  storeConnection,
} from '../redis/connection.js';
import { claimRun } from './lua/claimRun-2.lua.js';
import { createRun } from './lua/createRun-10.lua.js';
import { deleteRun } from './lua/deleteRun-10.lua.js';
import { loadRun } from './lua/loadRun-2.lua.js';
import { pruneIndex } from './lua/pruneIndex-1.lua.js';
import { publishProgress } from './lua/publishProgress-1.lua.js';
import { readHistory } from './lua/readHistory-3.lua.js';
import { saveRun } from './lua/saveRun-10.lua.js';

export { isRedisClient, isRedisTarget, type RedisClient } from '../redis/client.js';

/** The run store's hold on Redis: a connection (src/redis/connection.ts) with the store's scripts. */

const SCRIPTS = [createRun, claimRun, loadRun, saveRun, deleteRun, pruneIndex, readHistory, publishProgress];
export type ScriptName = (typeof SCRIPTS)[number]['name'];

export type { CallOptions } from '../redis/connection.js';
/** The run store's connection: its scripts, and WRONGTYPE replies read as a corrupt run. */
export type RedisConnection = GenericConnection<ScriptName>;

export function openRedis(redis: string | RedisClient, deadlineMs: number): RedisConnection {
  return openConnection(redis, deadlineMs, SCRIPTS, storeConnection('run'));
}

export { checkId, type RedisStoreLikeOptions, validateRedisOptions } from '../redis/options.js';

import type { Redis } from 'ioredis';

/** Every key under `prefix` with its type and full value, sorted: compare two dumps to prove nothing changed. */
export async function dumpPrefix(redis: Redis, prefix: string): Promise<Record<string, unknown>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  const dump: Record<string, unknown> = {};
  for (const key of keys.sort()) {
    const type = await redis.type(key);
    switch (type) {
      case 'hash':
        dump[key] = { hash: await redis.hgetall(key) };
        break;
      case 'zset':
        dump[key] = { zset: await redis.zrange(key, 0, -1, 'WITHSCORES') };
        break;
      case 'list':
        dump[key] = { list: await redis.lrange(key, 0, -1) };
        break;
      case 'set':
        dump[key] = { set: (await redis.smembers(key)).sort() };
        break;
      case 'stream':
        dump[key] = { stream: await redis.xrange(key, '-', '+') };
        break;
      default:
        dump[key] = { [type]: await redis.get(key) };
    }
  }
  return dump;
}

/**
 * The probes' clean-up: unlink every key whose name holds `prefix` (a probe's random prefix), so a probe
 * leaves nothing behind in the Redis it ran against. Takes any ioredis client: a probe loads ioredis
 * from the tree it measures.
 */
export async function removeKeys(redis, prefix) {
  let cursor = '0';
  do {
    const [after, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
    cursor = after;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

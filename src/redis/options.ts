import { InvalidOptionError } from '../errors.js';
import { isRedisTarget, type RedisClient } from './client.js';

/** The options every Redis-backed store takes. */
export interface RedisStoreLikeOptions {
  redis: string | RedisClient;
  prefix?: string;
  unavailableDeadlineMs?: number;
}

/** Validate a Redis-backed store's options, with messages that say what was expected and what was got. */
/** How long a call waits for an unavailable store before it fails, unless an option says otherwise. */
export const DEFAULT_UNAVAILABLE_DEADLINE_MS = 30_000;

export function validateRedisOptions<T extends RedisStoreLikeOptions>(
  options: T,
): Required<RedisStoreLikeOptions> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  const { redis, prefix = 'tw', unavailableDeadlineMs = DEFAULT_UNAVAILABLE_DEADLINE_MS } = options;
  if (!isRedisTarget(redis)) {
    throw new InvalidOptionError(
      'redis',
      'a redis:// or rediss:// URL or an ioredis Redis or Cluster client',
      redis,
    );
  }
  if (typeof prefix !== 'string' || prefix.length === 0 || /[{}]/.test(prefix)) {
    throw new InvalidOptionError('prefix', 'a non-empty string without { or }', prefix);
  }
  if (
    typeof unavailableDeadlineMs !== 'number' ||
    !Number.isFinite(unavailableDeadlineMs) ||
    unavailableDeadlineMs < 1
  ) {
    throw new InvalidOptionError('unavailableDeadlineMs', 'a number from 1 and up', unavailableDeadlineMs);
  }
  return { redis, prefix, unavailableDeadlineMs };
}

/** Ids (run or resource) are non-empty strings. */
export function checkId(what: string, id: unknown): void {
  if (typeof id !== 'string' || id.length === 0) {
    throw new InvalidOptionError(what, 'a non-empty string', id);
  }
}

import { checkJobLua } from './check-job.lua.js';

export const retryJob = {
  name: 'retryJob',
  numberOfKeys: 4,
  lua: String.raw`--[[
  retryJob-4: FAILED or CANCELLED -> UNCLAIMED at the end of its priority, with attempts, takeovers and
  error cleared (an operator's fresh start).

  KEYS[1] {prefix:jobs}:job:<id>   hash
  KEYS[2] {prefix:jobs}:ready      zset
  KEYS[3] {prefix:jobs}:wake       list
  KEYS[4] {prefix:jobs}:seq        counter
  ARGV[1] state index prefix ({prefix:jobs}:state:)
  ARGV[2] id

  Returns {'OK'}, {'NOT_FINISHED', state} (nothing changed), {'NONE'} or {'CORRUPT', reason}.
]]
${checkJobLua}
local job, refused = loadOrRefuse(KEYS[1])
if not job then return refused end
if job.state ~= 'FAILED' and job.state ~= 'CANCELLED' then return {'NOT_FINISHED', job.state} end
redis.call('HSET', KEYS[1], 'attempts', 0, 'takeovers', 0, 'updatedAt', nowMs())
redis.call('HDEL', KEYS[1], 'error', 'results', 'leaseUntil')
requeue(ARGV[1], KEYS[2], KEYS[3], KEYS[1], ARGV[2], job, redis.call('INCR', KEYS[4]))
return {'OK'}
`,
} as const;

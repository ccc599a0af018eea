import { checkJobLua } from './check-job.lua.js';

export const failJob = {
  name: 'failJob',
  numberOfKeys: 5,
  lua: String.raw`--[[
  failJob-5: a run ended in failure: count an attempt; put the job back at the end of its priority
  when retry is allowed and attempts remain, else CLAIMED -> FAILED with the error. Current token only.

  KEYS[1] {prefix:jobs}:job:<id>   hash
  KEYS[2] {prefix:jobs}:leases     zset
  KEYS[3] {prefix:jobs}:ready      zset
  KEYS[4] {prefix:jobs}:wake       list
  KEYS[5] {prefix:jobs}:seq        counter
  ARGV[1] state index prefix ({prefix:jobs}:state:)
  ARGV[2] id
  ARGV[3] token
  ARGV[4] error (JSON failure record)
  ARGV[5] retry allowed (1|0)
  ARGV[6] maxAttempts
  ARGV[7] channel for finished jobs

  Returns {'OK', 'UNCLAIMED'|'FAILED'}, {'LOST', currentToken, state} (nothing changed) or {'CORRUPT', reason}.
]]
${checkJobLua}
local job, refused = checkClaim(KEYS[1], tonumber(ARGV[3]))
if not job then return refused end
local attempts = job.attempts + 1
redis.call('HSET', KEYS[1], 'attempts', attempts, 'error', ARGV[4], 'updatedAt', nowMs())
dropLease(KEYS[2], KEYS[1], ARGV[2])
if ARGV[5] == '1' and attempts < tonumber(ARGV[6]) then
  requeue(ARGV[1], KEYS[3], KEYS[4], KEYS[1], ARGV[2], job, redis.call('INCR', KEYS[5]))
  return {'OK', 'UNCLAIMED'}
end
finish(ARGV[1], ARGV[7], KEYS[1], ARGV[2], job, 'FAILED')
return {'OK', 'FAILED'}
`,
} as const;

import { checkJobLua } from './check-job.lua.js';

export const completeJob = {
  name: 'completeJob',
  numberOfKeys: 2,
  lua: String.raw`--[[
  completeJob-2: CLAIMED -> COMPLETE with results, only for the current token.

  KEYS[1] {prefix:jobs}:job:<id>   hash
  KEYS[2] {prefix:jobs}:leases     zset
  ARGV[1] state index prefix ({prefix:jobs}:state:)
  ARGV[2] id
  ARGV[3] token
  ARGV[4] results (codec string)
  ARGV[5] channel for finished jobs

  Returns {'OK'}, {'LOST', currentToken, state} (nothing changed) or {'CORRUPT', reason}.
]]
${checkJobLua}
local job, refused = checkClaim(KEYS[1], tonumber(ARGV[3]))
if not job then return refused end
redis.call('HSET', KEYS[1], 'results', ARGV[4], 'updatedAt', nowMs())
redis.call('HDEL', KEYS[1], 'error')
dropLease(KEYS[2], KEYS[1], ARGV[2])
finish(ARGV[1], ARGV[5], KEYS[1], ARGV[2], job, 'COMPLETE')
return {'OK'}
`,
} as const;

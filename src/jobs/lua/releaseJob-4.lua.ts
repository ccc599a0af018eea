import { checkJobLua } from './check-job.lua.js';

export const releaseJob = {
  name: 'releaseJob',
  numberOfKeys: 4,
  lua: String.raw`--[[
  releaseJob-4: give a claim back at once (conductor stopping without drain): CLAIMED -> UNCLAIMED in
  its original queue place, no attempt counted. Current token only.

  KEYS[1] {prefix:jobs}:job:<id>   hash
  KEYS[2] {prefix:jobs}:leases     zset
  KEYS[3] {prefix:jobs}:ready      zset
  KEYS[4] {prefix:jobs}:wake       list
  ARGV[1] state index prefix ({prefix:jobs}:state:)
  ARGV[2] id
  ARGV[3] token

  Returns {'OK'}, {'LOST', currentToken, state} (nothing changed) or {'CORRUPT', reason}.
]]
${checkJobLua}
local job, refused = checkClaim(KEYS[1], tonumber(ARGV[3]))
if not job then return refused end
redis.call('HSET', KEYS[1], 'updatedAt', nowMs())
dropLease(KEYS[2], KEYS[1], ARGV[2])
requeue(ARGV[1], KEYS[3], KEYS[4], KEYS[1], ARGV[2], job, job.seq)
return {'OK'}
`,
} as const;

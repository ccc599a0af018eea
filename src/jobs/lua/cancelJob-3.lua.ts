import { checkJobLua } from './check-job.lua.js';

export const cancelJob = {
  name: 'cancelJob',
  numberOfKeys: 3,
  lua: String.raw`--[[
  cancelJob-3: UNCLAIMED or CLAIMED -> CANCELLED. A claim's token is left as it is: its conductor's next
  renew returns false, and its complete/fail/release get LeaseLostError.

  KEYS[1] {prefix:jobs}:job:<id>   hash
  KEYS[2] {prefix:jobs}:leases     zset
  KEYS[3] {prefix:jobs}:ready      zset
  ARGV[1] state index prefix ({prefix:jobs}:state:)
  ARGV[2] id
  ARGV[3] channel for finished jobs

  Returns {'OK'}, {'FINAL', state} (already finished, nothing changed), {'NONE'} or {'CORRUPT', reason}.
]]
${checkJobLua}
local job, refused = loadOrRefuse(KEYS[1])
if not job then return refused end
if job.state ~= 'UNCLAIMED' and job.state ~= 'CLAIMED' then return {'FINAL', job.state} end
if job.state == 'UNCLAIMED' then
  redis.call('ZREM', KEYS[3], rankOf(job.seq, ARGV[2]))
else
  dropLease(KEYS[2], KEYS[1], ARGV[2])
end
redis.call('HSET', KEYS[1], 'updatedAt', nowMs())
finish(ARGV[1], ARGV[3], KEYS[1], ARGV[2], job, 'CANCELLED')
return {'OK'}
`,
} as const;

import { checkJobLua } from './check-job.lua.js';

export const peekWork = {
  name: 'peekWork',
  numberOfKeys: 2,
  lua: String.raw`--[[
  peekWork-2: is anything claimable now, and if not, when does the first lease expire? Read-only;
  lets waitForWork block exactly until a takeover becomes possible instead of polling.

  KEYS[1] {prefix:jobs}:ready    zset
  KEYS[2] {prefix:jobs}:leases   zset, CLAIMED jobs by leaseUntil (ms)

  Returns 0 when a job is claimable now, the ms until the earliest lease expires, or -1 when no job
  is waiting or claimed.
]]
${checkJobLua}
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if #first == 0 then return -1 end
local left = tonumber(first[2]) - nowMs()
if left <= 0 then return 0 end
return left
`,
} as const;

import { checkJobLua } from './check-job.lua.js';

export const renewLease = {
  name: 'renewLease',
  numberOfKeys: 2,
  lua: String.raw`--[[
  renewLease-2: extend a claim's lease, if the claim is still this owner's with this token.
  A lease that expired but was not taken over yet can still be renewed: the token decides.

  KEYS[1] {prefix:jobs}:job:<id>   hash
  KEYS[2] {prefix:jobs}:leases     zset, CLAIMED jobs by leaseUntil (ms)
  ARGV[1] id
  ARGV[2] owner
  ARGV[3] token
  ARGV[4] leaseMs

  Returns 1 when renewed, 0 when the claim is lost (other token or owner, not CLAIMED, gone, corrupt).
]]
${checkJobLua}
local job = loadJob(KEYS[1])
if not job or job.state ~= 'CLAIMED' or job.token ~= tonumber(ARGV[3]) or job.owner ~= ARGV[2] then
  return 0
end
local leaseUntil = nowMs() + tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'leaseUntil', leaseUntil)
redis.call('ZADD', KEYS[2], leaseUntil, ARGV[1])
return 1
`,
} as const;

import { checkJobLua } from './check-job.lua.js';
import { claimNextLua } from './claim-next.lua.js';

export const completeJob = {
  name: 'completeJob',
  numberOfKeys: 4,
  lua: String.raw`--[[
  completeJob-4: CLAIMED -> COMPLETE with results, only for the current token; then, when asked (an
  owner is given), claim the next job for that owner in the same round trip (see claim-next.lua.ts):
  a conductor finishing a job takes its next one without a second call.

  KEYS[1] {prefix:jobs}:job:<id>   hash
  KEYS[2] {prefix:jobs}:leases     zset
  KEYS[3] {prefix:jobs}:ready      zset (for the next claim)
  KEYS[4] {prefix:jobs}:wake       list (for the next claim)
  ARGV[1] state index prefix ({prefix:jobs}:state:)
  ARGV[2] id
  ARGV[3] token
  ARGV[4] results (codec string)
  ARGV[5] channel for finished jobs
  ARGV[6] job key prefix ({prefix:jobs}:job:)       \
  ARGV[7] owner of the next claim ('' for none)      | the next claim
  ARGV[8] leaseMs                                    |
  ARGV[9] maxTakeovers                              /

  Returns {'OK'} or {'OK', id, token, takeover (0|1), HGETALL of the next job};
  {'LOST', currentToken, state} (nothing changed, nothing claimed) or {'CORRUPT', reason}.
]]
${checkJobLua}
${claimNextLua}
local job, refused = checkClaim(KEYS[1], tonumber(ARGV[3]))
if not job then return refused end
local now = nowMs()
-- A previous attempt's error goes with the lease, the results with the state: one HDEL, one HSET.
dropLease(KEYS[2], KEYS[1], ARGV[2], 'error')
finish(ARGV[1], ARGV[5], KEYS[1], ARGV[2], job, 'COMPLETE', 'results', ARGV[4], 'updatedAt', now)
if ARGV[7] == '' then return {'OK'} end
local next = claimNext({
  ready = KEYS[3], leases = KEYS[2], wake = KEYS[4], statePrefix = ARGV[1], jobPrefix = ARGV[6],
  owner = ARGV[7], leaseMs = ARGV[8], maxTakeovers = ARGV[9], channel = ARGV[5], now = now,
})
if not next then return {'OK'} end
return {'OK', next[1], next[2], next[3], next[4]}
`,
} as const;

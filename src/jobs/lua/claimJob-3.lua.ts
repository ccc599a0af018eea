import { checkJobLua } from './check-job.lua.js';
import { claimNextLua } from './claim-next.lua.js';

export const claimJob = {
  name: 'claimJob',
  numberOfKeys: 3,
  lua: String.raw`--[[
  claimJob-3: claim the best waiting job or an expired one (see claim-next.lua.ts).

  KEYS[1] {prefix:jobs}:ready    zset, UNCLAIMED jobs (score -priority, member <seq>:<id>)
  KEYS[2] {prefix:jobs}:leases   zset, CLAIMED jobs by leaseUntil (ms)
  KEYS[3] {prefix:jobs}:wake     list, wake-up tokens (emptied when no job is left waiting)
  ARGV[1] state index prefix ({prefix:jobs}:state:)
  ARGV[2] job key prefix ({prefix:jobs}:job:)
  ARGV[3] owner
  ARGV[4] leaseMs
  ARGV[5] maxTakeovers
  ARGV[6] channel for finished jobs

  Returns {id, token, takeover (0|1), HGETALL of the job} or nil when nothing is claimable.
]]
${checkJobLua}
${claimNextLua}
return claimNext({
  ready = KEYS[1], leases = KEYS[2], wake = KEYS[3], statePrefix = ARGV[1], jobPrefix = ARGV[2],
  owner = ARGV[3], leaseMs = ARGV[4], maxTakeovers = ARGV[5], channel = ARGV[6],
})
`,
} as const;

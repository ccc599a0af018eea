export const pruneIndex = {
  name: 'pruneIndex',
  lua: `--[[
  pruneIndex-1: remove a run from a status index only if its entry is not newer than what the caller
  saw. Index entries live on other cluster slots than the run, so they are updated after the run's
  own script; this keeps a late or stale removal from dropping an entry a newer write just added.

  KEYS[1] <prefix>:idx:<STATUS>   sorted set, member runId, score updatedAt
  ARGV[1] runId
  ARGV[2] highest score to remove (epoch ms)

  Returns 1 when removed, 0 otherwise.
]]
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
`,
} as const;

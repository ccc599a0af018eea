import { checkJobLua } from './check-job.lua.js';

export const purgeJobs = {
  name: 'purgeJobs',
  numberOfKeys: 1,
  lua: String.raw`--[[
  purgeJobs-1: delete the finished jobs of one state last changed before a cutoff, one page of the
  state's index at a time (a page is a bounded amount of work; the caller loops).

  KEYS[1] {prefix:jobs}:state:<STATE>   zset (ids in that state)
  ARGV[1] job key prefix ({prefix:jobs}:job:)
  ARGV[2] state (COMPLETE, FAILED or CANCELLED)
  ARGV[3] olderThanMs: jobs whose updatedAt is before (Redis server time - olderThanMs) go
  ARGV[4] offset into the index (entries kept by earlier pages)
  ARGV[5] page size

  Returns {deleted, kept, scanned}. A job that is not in that state any more, or not a taskweave job,
  is kept (its index entry too: corrupt data is left for an operator).
]]
${checkJobLua}
local cutoff = nowMs() - tonumber(ARGV[3])
local ids = redis.call('ZRANGE', KEYS[1], tonumber(ARGV[4]), tonumber(ARGV[4]) + tonumber(ARGV[5]) - 1)
local deleted, kept = 0, 0
for _, id in ipairs(ids) do
  local key = ARGV[1] .. id
  local job = loadJob(key)
  local updatedAt = tonumber(redis.call('HGET', key, 'updatedAt'))
  if job and job.state == ARGV[2] and updatedAt and updatedAt < cutoff then
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[1], id)
    deleted = deleted + 1
  elseif not job and redis.call('EXISTS', key) == 0 then
    -- Index entry of a job already gone.
    redis.call('ZREM', KEYS[1], id)
  else
    kept = kept + 1
  end
end
return {deleted, kept, #ids}
`,
} as const;

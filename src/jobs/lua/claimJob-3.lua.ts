import { checkJobLua } from './check-job.lua.js';

export const claimJob = {
  name: 'claimJob',
  numberOfKeys: 3,
  lua: String.raw`--[[
  claimJob-3: claim the best UNCLAIMED job, or a CLAIMED one whose lease expired (a takeover), in one
  step, so two conductors never get the same claim. An expired job is preferred when its priority is
  at least that of the best waiting job (its run already started). An expired job that was taken over
  maxTakeovers times already is marked FAILED instead (and the search goes on). Index entries that
  point at nothing, or at data that is not a job, are dropped from the indexes (the data stays).

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
local now = nowMs()
local leaseUntil = now + tonumber(ARGV[4])
local maxTakeovers = tonumber(ARGV[5])

local function take(key, id, job, takeover)
  local token = job.token + 1
  redis.call('HSET', key, 'state', 'CLAIMED', 'owner', ARGV[3], 'token', token,
    'leaseUntil', leaseUntil, 'updatedAt', now)
  if takeover then
    redis.call('HINCRBY', key, 'takeovers', 1)
  else
    moveState(ARGV[1], id, job.n, 'UNCLAIMED', 'CLAIMED')
  end
  redis.call('ZADD', KEYS[2], leaseUntil, id)
  -- Wake tokens stand for waiting jobs: with none left, they are all stale.
  if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('DEL', KEYS[3]) end
  return {id, token, takeover and 1 or 0, redis.call('HGETALL', key)}
end

local function giveUp(key, id, job)
  local message = 'Job ' .. id .. ' lost its conductor again after ' .. job.takeovers ..
    ' takeovers (leases expired; maxTakeovers is ' .. maxTakeovers ..
    '). It may be crashing its conductors: fix the cause, then retry it.'
  redis.call('HSET', key, 'updatedAt', now,
    'error', cjson.encode({ name = 'TakeoverLimitError', message = message }))
  dropLease(KEYS[2], key, id)
  finish(ARGV[1], ARGV[6], key, id, job, 'FAILED')
end

-- One candidate: a claim reply, 'empty' when nothing is claimable, 'again' after cleaning up.
local function step()
  local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1)
  if #head == 0 and #expired == 0 then return 'empty' end
  if #expired > 0 then
    local id = expired[1]
    local key = ARGV[2] .. id
    local job, why = loadJob(key)
    if not job or job.state ~= 'CLAIMED' then
      redis.call('ZREM', KEYS[2], id)
      if not job then forget(ARGV[1], id) end
      return 'again'
    end
    if #head == 0 or job.priority >= -tonumber(head[2]) then
      if job.takeovers >= maxTakeovers then
        giveUp(key, id, job)
        return 'again'
      end
      return take(key, id, job, true)
    end
  end
  local member = head[1]
  local id = string.sub(member, 18)
  local key = ARGV[2] .. id
  local job = loadJob(key)
  redis.call('ZREM', KEYS[1], member)
  if not job then
    forget(ARGV[1], id)
    return 'again'
  end
  if job.state ~= 'UNCLAIMED' or rankOf(job.seq, id) ~= member then return 'again' end
  return take(key, id, job, false)
end

for _ = 1, 1000 do
  local result = step()
  if result == 'empty' then
    -- Nothing claimable at this instant, so every wake token is stale: drop them.
    redis.call('DEL', KEYS[3])
    return nil
  end
  if result ~= 'again' then return result end
end
return nil
`,
} as const;

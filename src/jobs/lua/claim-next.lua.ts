/**
 * Lua shared by `claimJob` and `completeJob`: claim the best UNCLAIMED job, or a CLAIMED one whose lease
 * expired (a takeover), in one step, so two conductors never get the same claim. An expired job is
 * preferred when its priority is at least that of the best waiting job (its run already started). An
 * expired job that was taken over maxTakeovers times already is marked FAILED instead (and the search
 * goes on). Index entries that point at nothing, or at data that is not a job, are dropped from the
 * indexes (the data stays). Needs `checkJobLua` before it.
 *
 * claimNext(c) with c = { ready, leases, wake (keys), statePrefix, jobPrefix, owner, leaseMs, maxTakeovers,
 * channel, now? (the server time the calling script read already) } returns {id, token, takeover (0|1),
 * HGETALL of the job}, or nil when nothing is claimable.
 */
export const claimNextLua = String.raw`
local function claimNext(c)
  local now = c.now or nowMs()
  local leaseUntil = now + tonumber(c.leaseMs)
  local maxTakeovers = tonumber(c.maxTakeovers)

  -- 'waiting': whether the ready queue still holds a job once this one is taken.
  local function take(key, id, job, takeover, waiting)
    local token = job.token + 1
    redis.call('HSET', key, 'state', 'CLAIMED', 'owner', c.owner, 'token', token,
      'leaseUntil', leaseUntil, 'updatedAt', now)
    if takeover then
      redis.call('HINCRBY', key, 'takeovers', 1)
    else
      moveState(c.statePrefix, id, job.n, 'UNCLAIMED', 'CLAIMED')
    end
    redis.call('ZADD', c.leases, leaseUntil, id)
    -- Wake tokens stand for waiting jobs: with none left, they are all stale.
    if not waiting then redis.call('DEL', c.wake) end
    return {id, token, takeover and 1 or 0, redis.call('HGETALL', key)}
  end

  local function giveUp(key, id, job)
    local message = 'Job ' .. id .. ' lost its conductor again after ' .. job.takeovers ..
      ' takeovers (leases expired; maxTakeovers is ' .. maxTakeovers ..
      '). It may be crashing its conductors: fix the cause, then retry it.'
    redis.call('HSET', key, 'updatedAt', now,
      'error', cjson.encode({ name = 'TakeoverLimitError', message = message }))
    dropLease(c.leases, key, id)
    finish(c.statePrefix, c.channel, key, id, job, 'FAILED')
  end

  -- One candidate: a claim reply, 'empty' when nothing is claimable, 'again' after cleaning up.
  local function step()
    -- The first two waiting jobs: the best, and whether another waits behind it (no ZCARD after).
    local head = redis.call('ZRANGE', c.ready, 0, 1, 'WITHSCORES')
    local expired = redis.call('ZRANGEBYSCORE', c.leases, '-inf', now, 'LIMIT', 0, 1)
    if #head == 0 and #expired == 0 then return 'empty' end
    if #expired > 0 then
      local id = expired[1]
      local key = c.jobPrefix .. id
      local job, why = loadJob(key)
      if not job or job.state ~= 'CLAIMED' then
        redis.call('ZREM', c.leases, id)
        if not job then forget(c.statePrefix, id) end
        return 'again'
      end
      if #head == 0 or job.priority >= -tonumber(head[2]) then
        if job.takeovers >= maxTakeovers then
          giveUp(key, id, job)
          return 'again'
        end
        return take(key, id, job, true, #head > 0)
      end
    end
    local member = head[1]
    local id = string.sub(member, 18)
    local key = c.jobPrefix .. id
    local job = loadJob(key)
    redis.call('ZREM', c.ready, member)
    if not job then
      forget(c.statePrefix, id)
      return 'again'
    end
    if job.state ~= 'UNCLAIMED' or rankOf(job.seq, id) ~= member then return 'again' end
    return take(key, id, job, false, #head > 2)
  end

  for _ = 1, 1000 do
    local result = step()
    if result == 'empty' then
      -- Nothing claimable at this instant, so every wake token is stale: drop them.
      redis.call('DEL', c.wake)
      return nil
    end
    if result ~= 'again' then return result end
  end
  return nil
end
`;

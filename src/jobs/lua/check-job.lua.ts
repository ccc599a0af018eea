import { JOB_STATES } from '../job-board.js';
import { JOB_FORMAT } from '../redis-job-record.js';

/**
 * Lua shared by the job scripts, interpolated into each script's text (scripts stay self-contained
 * for EVALSHA). Every key a script touches shares the board's hash tag `{<prefix>:jobs}`, so the
 * keys a script builds from a prefix (a job's hash, the per-state indexes) are on the script's slot.
 */
export const checkJobLua = String.raw`
local FORMAT = '${JOB_FORMAT}'
local STATES = { ${JOB_STATES.map((state) => `${state} = true`).join(', ')} }

-- Redis server time in ms: leases never depend on the clocks of conductors' machines.
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Ready-queue member. The score is -priority; equal scores sort by member, so the zero-padded
-- sequence number makes each priority FIFO.
local function rankOf(seq, id)
  return string.format('%016d', seq) .. ':' .. id
end

-- The fields scripts decide on, or nil plus a reason when the key holds something that is not our job.
-- One read on the common path (a job's scripts are on every job's path, each call costing Redis more
-- than the fields it reads); the key's type is asked only to tell why it holds no job.
local function loadJob(key)
  local read, v = pcall(redis.call, 'HMGET', key, 'fmt', 'state', 'token', 'n', 'seq', 'priority',
    'attempts', 'takeovers', 'owner')
  if not read or v[1] ~= FORMAT then
    local kind = redis.call('TYPE', key)['ok']
    if kind == 'none' then return nil, 'none' end
    if kind ~= 'hash' then return nil, 'the key holds a ' .. kind .. ', not a hash' end
    return nil, 'no taskweave job marker'
  end
  if not STATES[v[2]] then return nil, 'unknown state ' .. string.sub(tostring(v[2]), 1, 40) end
  local job = {
    state = v[2], token = tonumber(v[3]), n = tonumber(v[4]), seq = tonumber(v[5]),
    priority = tonumber(v[6]), attempts = tonumber(v[7]), takeovers = tonumber(v[8]), owner = v[9],
  }
  if not (job.token and job.n and job.seq and job.priority and job.attempts and job.takeovers) then
    return nil, 'a counter is missing or not a number'
  end
  return job, 'ok'
end

local function moveState(statePrefix, id, n, from, to)
  redis.call('ZREM', statePrefix .. from, id)
  redis.call('ZADD', statePrefix .. to, n, id)
end

-- Drop an id from the state indexes (not its key: that data is left for an operator to look at).
local function forget(statePrefix, id)
  for state in pairs(STATES) do redis.call('ZREM', statePrefix .. state, id) end
end

-- The job under key, or nil plus the reply refusing to act on it: {'NONE'} or {'CORRUPT', reason}.
local function loadOrRefuse(key)
  local job, why = loadJob(key)
  if job then return job end
  if why == 'none' then return nil, {'NONE'} end
  return nil, {'CORRUPT', why}
end

-- The job behind a fenced call, or nil plus the reply refusing it: {'LOST', currentToken, state}
-- (-1 and 'NONE' when the job is gone) or {'CORRUPT', reason}.
local function checkClaim(key, token)
  local job, why = loadJob(key)
  if not job then
    if why == 'none' then return nil, {'LOST', -1, 'NONE'} end
    return nil, {'CORRUPT', why}
  end
  if job.state ~= 'CLAIMED' or job.token ~= token then return nil, {'LOST', job.token, job.state} end
  return job
end

-- One token per wake-up; the list is capped (trimmed only once it outgrew the cap: LPUSH says its
-- length), and claim empties it when nothing is claimable.
local function wake(wakeKey)
  if redis.call('LPUSH', wakeKey, '1') > 64 then redis.call('LTRIM', wakeKey, 0, 63) end
end

-- In the ready queue at sequence seq; '...' are more field/value pairs for the job's same HSET.
local function enqueue(readyKey, key, id, priority, seq, ...)
  redis.call('ZADD', readyKey, -priority, rankOf(seq, id))
  redis.call('HSET', key, 'seq', seq, ...)
end

-- A claim ends (completed, failed, released, cancelled, given up): its lease goes with it; '...' are
-- more fields to delete with it.
local function dropLease(leasesKey, key, id, ...)
  redis.call('ZREM', leasesKey, id)
  redis.call('HDEL', key, 'leaseUntil', ...)
end

-- Back in the ready queue at sequence seq, listed UNCLAIMED, a waiting conductor woken.
local function requeue(statePrefix, readyKey, wakeKey, key, id, job, seq)
  enqueue(readyKey, key, id, job.priority, seq, 'state', 'UNCLAIMED')
  moveState(statePrefix, id, job.n, job.state, 'UNCLAIMED')
  wake(wakeKey)
end

-- Into a final state (COMPLETE, FAILED, CANCELLED), announced to those waiting for the job; '...' are
-- more field/value pairs for the same HSET.
local function finish(statePrefix, channel, key, id, job, state, ...)
  redis.call('HSET', key, 'state', state, ...)
  moveState(statePrefix, id, job.n, job.state, state)
  redis.call('PUBLISH', channel, id)
end
`;

import { RUN_STATUSES } from '../store.js';

/**
 * Lua shared by the run scripts: decide whether KEYS[1] (meta) and KEYS[2] (parts) hold a taskweave
 * run. Interpolated into each script's text (scripts are self-contained for EVALSHA).
 *
 * `inspectRun(kind)` returns 'none' (no run), 'ok' (a run with integer token and seq and a known
 * status) or a short reason why the keys hold something that is not taskweave's run.
 */
export const checkRunLua = `
-- Each run status, with the position of its index key among all seven in KEYS (see statusIndexes).
local RUN_STATUS = { ${RUN_STATUSES.map((status, i) => `${status} = ${i + 4}`).join(', ')} }

local function inspectRun(kind)
  local metaType = redis.call('TYPE', KEYS[1])['ok']
  local partsType = redis.call('TYPE', KEYS[2])['ok']
  if partsType ~= 'none' and partsType ~= 'hash' then
    return 'parts key holds a ' .. partsType .. ', not a hash'
  end
  if metaType == 'none' then
    if partsType ~= 'none' then return 'parts exist without meta' end
    return 'none'
  end
  if metaType ~= 'hash' then return 'meta key holds a ' .. metaType .. ', not a hash' end
  local marker = redis.call('HGET', KEYS[1], 'kind')
  if marker ~= kind then
    return 'meta has no taskweave marker (kind is ' .. string.sub(tostring(marker), 1, 40) .. ')'
  end
  local token = redis.call('HGET', KEYS[1], 'token')
  local seq = redis.call('HGET', KEYS[1], 'seq')
  if not token or not string.match(token, '^%d+$') or not seq or not string.match(seq, '^%d+$') then
    return 'meta token or seq is not a non-negative integer'
  end
  local status = redis.call('HGET', KEYS[1], 'status')
  if not RUN_STATUS[status] then
    return 'meta status ' .. string.sub(tostring(status), 1, 40) .. ' is not a run status'
  end
  return 'ok'
end

-- The status index keys a write moves its run between: 'from' (the stored status; nil for a create)
-- and 'to' (the status written). On a single Redis a caller passes after the run's three keys either
-- all seven index keys, in RUN_STATUSES order (looked up by position), or only the one of the status
-- it writes (KEYS[4]) and, when it expects the run to leave another, that one's (KEYS[5]): a write
-- that keeps its status (most do) then sends one index key, not seven. Returns from, to (nil: none to
-- touch, as on a Cluster, where the caller passes the run's three keys and updates the indexes
-- itself), or false when the stored status is not the one the caller expected: it then asks again
-- with all seven (nothing is written before this is asked).
local function statusIndexes(from, to)
  if #KEYS < 4 then return nil, nil end
  if #KEYS >= 10 then return from and KEYS[RUN_STATUS[from]], KEYS[RUN_STATUS[to]] end
  if not from then return nil, KEYS[4] end
  local suffix = ':idx:' .. from
  if #KEYS == 5 and string.sub(KEYS[5], -#suffix) == suffix then return KEYS[5], KEYS[4] end
  return false
end

-- HSET/HDEL straight from ARGV, in chunks: unpack() of a few thousand arguments overflows Lua's C
-- stack. No table is built first: filling one element by element costs a write more than its HSET.
local function hsetPairs(key, from, count)
  local done = 0
  while done < count do
    local n = math.min(500, count - done)
    local at = from + 2 * done
    redis.call('HSET', key, unpack(ARGV, at, at + 2 * n - 1))
    done = done + n
  end
end

local function hdelNames(key, from, count)
  local done = 0
  while done < count do
    local n = math.min(1000, count - done)
    redis.call('HDEL', key, unpack(ARGV, from + done, from + done + n - 1))
    done = done + n
  end
end

-- Does the run hold what a write would have written: the meta block at 'at' (updatedAt aside; see
-- writeMeta), the part pairs from 'pairsAt' (count n) and none of the d names after them? Asked only
-- when a write names the version already stored, under the token that wrote it: one writer holds a
-- token and writes each version once, so equal content means a retry of that very write (its reply
-- was lost), anything else a conflict. The common path pays nothing for it (no digest per write).
local function holdsWrite(at, pairsAt, n, d)
  local m = redis.call('HMGET', KEYS[1], 'flow', 'version', 'hash', 'status', 'createdAt', 'owner')
  if m[1] ~= ARGV[at] or m[2] ~= ARGV[at + 1] or m[3] ~= ARGV[at + 2] or m[4] ~= ARGV[at + 3] then
    return false
  end
  if m[5] ~= ARGV[at + 4] then return false end
  if ARGV[at + 6] == '1' then
    if m[6] ~= ARGV[at + 7] then return false end
  elseif m[6] then
    return false
  end
  for i = 0, n - 1 do
    local name = ARGV[pairsAt + 2 * i]
    if redis.call('HGET', KEYS[2], name) ~= ARGV[pairsAt + 2 * i + 1] then return false end
  end
  for i = 0, d - 1 do
    if redis.call('HEXISTS', KEYS[2], ARGV[pairsAt + 2 * n + i]) == 1 then return false end
  end
  return true
end

-- Append the events a write records to the run's history, KEYS[3] (a stream), numbered after 'last'
-- (the meta's 'events' field), as ONE entry: id '0-<seq of its last event>', field 'b', the events as
-- a JSON array (the i-th of m has seq last + i). An entry per write, not per event: each XADD costs
-- Redis more than the JSON it stores. Ids stay seqs, so XREAD after a seen seq returns every entry
-- holding a later event (a reader drops the earlier events of an entry it resumes inside). Runs
-- stored before kept one event per entry (field 'e', id its seq); readers take both.
-- ARGV[at] is the length cap in events, ARGV[at + 1] the number of events m, ARGV[at + 2] their JSON
-- array ('' when m is 0). Trimming is exact by seq (XADD MINID): entries whose events are all older
-- than the newest 'cap' go, so at least 'cap' events stay, and fewer than 'cap' plus one write's.
-- Returns the new last seq.
local function appendEvents(last, at)
  local m = tonumber(ARGV[at + 1])
  if m == 0 then return last end
  local top = last + m
  local drop = top - tonumber(ARGV[at])
  if drop > 0 then
    redis.call('XADD', KEYS[3], 'MINID', '0-' .. (drop + 1), '0-' .. top, 'b', ARGV[at + 2])
  else
    redis.call('XADD', KEYS[3], '0-' .. top, 'b', ARGV[at + 2])
  end
  return top
end

-- The meta block (8 ARGV from 'at'): flow, version, hash, status, createdAt, updatedAt, hasOwner, owner;
-- '...' are more field/value pairs for the same HSET (seq, the events counter): one call, not one per
-- group of fields (each call into Redis costs a script more than the fields it sets).
local function writeMeta(key, at, ...)
  if ARGV[at + 6] == '1' then
    redis.call('HSET', key, 'flow', ARGV[at], 'version', ARGV[at + 1], 'hash', ARGV[at + 2],
      'status', ARGV[at + 3], 'createdAt', ARGV[at + 4], 'updatedAt', ARGV[at + 5], 'owner', ARGV[at + 7], ...)
  else
    redis.call('HSET', key, 'flow', ARGV[at], 'version', ARGV[at + 1], 'hash', ARGV[at + 2],
      'status', ARGV[at + 3], 'createdAt', ARGV[at + 4], 'updatedAt', ARGV[at + 5], ...)
    redis.call('HDEL', key, 'owner')
  end
end
`;

import { checkRunLua } from './check-run.lua.js';

export const saveRun = {
  name: 'saveRun',
  lua: `--[[
  saveRun-10: apply one fenced, versioned write: meta fields, changed parts, removed parts, and the
  events it records appended to the run's history; on a single Redis, move the run's status index
  entry in the same step when the status changes. Nothing is written unless every check passes.

  KEYS[1] {prefix:runId}:meta    hash
  KEYS[2] {prefix:runId}:parts   hash
  KEYS[3] {prefix:runId}:events  stream (the run's history)
  KEYS[4..10] <prefix>:idx:<STATUS>, one per status, in RUN_STATUSES order; or KEYS[4] the index of
             the status written and, when the caller expects the run to leave another, KEYS[5] that
             one's (see statusIndexes). Single Redis only: in a Cluster they are on other slots, so
             the caller passes 3 keys and updates the indexes itself.
             All seven are declared because the status the run leaves is known only here, and a
             script should touch only keys it was given (servers such as Dragonfly enforce it).
  ARGV[1]      kind marker
  ARGV[2]      fencing token the writer holds
  ARGV[3]      version written (must be stored seq + 1)
  ARGV[4..11]  meta block: flow, version, hash, status, createdAt, updatedAt, hasOwner ('0'|'1'), owner
  ARGV[12]     runId (the index member)
  ARGV[13]     number of set parts n
  ARGV[14]     number of deleted parts d
  ARGV[15..14+2n]          part name/value pairs to set
  ARGV[15+2n..14+2n+d]     part names to delete
  ARGV[15+2n+d]            history length cap, then the number of events m, then their JSON array
                           (see appendEvents)
  A write at the stored version under the current token that the run already holds (updatedAt
  aside) is an exact replay of the last applied write (a retry rebuilt a moment later), not a conflict.

  Returns {'OK', previousStatus, previousUpdatedAt} when applied,
          {'REPLAY'} when this exact write was the last one applied (with the index as it left it),
          {'LEASE', currentToken} when the token is stale ({'LEASE'} when there is no run),
          {'VERSION', storedSeq} when the version is not the next one,
          {'CORRUPT', reason} when the keys hold something that is not a taskweave run,
          {'INDEXES', storedStatus} (nothing written) when the status changes from another than the
          caller expected and it passed only two index keys: it sends the write again with all seven.
]]
${checkRunLua}
-- Fast path: one read of everything the checks need (a write is on every task's critical path).
local partsType = redis.call('TYPE', KEYS[2])['ok']
local read, meta = pcall(redis.call, 'HMGET', KEYS[1], 'kind', 'token', 'seq', 'status', 'updatedAt',
  'events')
local sound = read and meta[1] == ARGV[1] and (partsType == 'hash' or partsType == 'none')
  and meta[2] and string.match(meta[2], '^%d+$') and meta[3] and string.match(meta[3], '^%d+$')
  and RUN_STATUS[meta[4]]
if not sound then
  -- Slow path, for the exact reason: no run, or keys that are not a taskweave run.
  local state = inspectRun(ARGV[1])
  if state == 'none' then return {'LEASE'} end
  return {'CORRUPT', state}
end
if meta[2] ~= ARGV[2] then return {'LEASE', meta[2]} end
local seq = tonumber(meta[3])
local wanted = tonumber(ARGV[3])
local n = tonumber(ARGV[13])
local d = tonumber(ARGV[14])
if wanted == seq and holdsWrite(4, 15, n, d) then return {'REPLAY'} end
if wanted ~= seq + 1 then return {'VERSION', seq} end
-- Most writes keep the status: then the entry, scored by the time the run entered it, is already right.
local from, to = nil, nil
if meta[4] ~= ARGV[7] then
  from, to = statusIndexes(meta[4], ARGV[7])
  if from == false then return {'INDEXES', meta[4]} end
end
-- The history first: an XADD Redis refuses (an id not above the stream's last) fails the write
-- before anything else is written. A run stored before history existed has no counter: its history
-- starts now, at 1.
local events = appendEvents(tonumber(meta[6]) or 0, 15 + 2 * n + d)
writeMeta(KEYS[1], 4, 'seq', ARGV[3], 'events', events)
hsetPairs(KEYS[2], 15, n)
hdelNames(KEYS[2], 15 + 2 * n, d)
if from then redis.call('ZREM', from, ARGV[12]) end
-- No GT needed (unlike the separate Cluster updates): written with the status, it is never late.
if to then redis.call('ZADD', to, ARGV[9], ARGV[12]) end
return {'OK', meta[4], meta[5]}
`,
} as const;

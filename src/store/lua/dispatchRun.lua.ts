import { checkRunLua } from './check-run.lua.js';

/**
 * Lua shared by dispatchRun and writeRunOutbox (outbox.lua.ts): read the head of ARGV (the run's
 * write, laid out as dispatchRun's header says) and apply it to KEYS[1..3].
 *
 * `tail` is the first ARGV after the run's write (a step's dispatch block, or its outbox entry);
 * `writeStep()` checks, then writes (nothing is written unless every check passes), and returns
 * {'OK', previousStatus, previousUpdatedAt} or the refusal.
 */
export const runStepLua = `${checkRunLua}
local n = tonumber(ARGV[13])
local d = tonumber(ARGV[14])
local h = 15 + 2 * n + d
-- The history block is 3 ARGV: cap, number of events, their JSON array.
local tail = h + 3

local function writeStep()
  local previous = {false, false}
  if ARGV[2] == 'create' then
    -- One call on the common path (nothing under any of the three keys); the others only when something is.
    if redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[3]) > 0 then
      if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return {'EXISTS'} end
      -- No run here: a history left under its id (a run deleted by hand) is not this run's.
      redis.call('DEL', KEYS[3])
    end
    local events = appendEvents(0, h)
    writeMeta(KEYS[1], 5, 'kind', ARGV[1], 'token', '1', 'seq', '0', 'events', events)
  else
    local state = inspectRun(ARGV[1])
    if state == 'none' then return {'LEASE'} end
    if state ~= 'ok' then return {'CORRUPT', state} end
    local meta = redis.call('HMGET', KEYS[1], 'token', 'seq', 'status', 'updatedAt', 'events')
    if meta[1] ~= ARGV[3] then return {'LEASE', meta[1]} end
    if tonumber(ARGV[4]) ~= tonumber(meta[2]) + 1 then return {'VERSION', meta[2]} end
    local events = appendEvents(tonumber(meta[5]) or 0, h)
    writeMeta(KEYS[1], 5, 'seq', ARGV[4], 'events', events)
    previous = {meta[3], meta[4]}
  end
  hsetPairs(KEYS[2], 15, n)
  hdelNames(KEYS[2], 15 + 2 * n, d)
  return {'OK', previous[1], previous[2]}
end
`;

/**
 * Lua shared by dispatchRun and relayOutbox (outbox.lua.ts): the block of a step that leaves the
 * run's slot (acknowledgement, dispatches, deadlines), from ARGV[at], with key indexes into KEYS.
 */
export const dispatchBlockLua = `
local function dispatchBlock(at, timersKey)
  local ackKey = tonumber(ARGV[at])
  if ackKey > 0 then
    redis.call('XACK', KEYS[ackKey], 'workers', ARGV[at + 1])
    redis.call('XDEL', KEYS[ackKey], ARGV[at + 1])
  end
  at = at + 3
  local k = tonumber(ARGV[at])
  for i = 1, k do
    redis.call('XADD', KEYS[tonumber(ARGV[at + 2 * i - 1])], '*', 'm', ARGV[at + 2 * i])
  end
  at = at + 2 * k + 1
  local add = tonumber(ARGV[at])
  for i = 1, add do redis.call('ZADD', timersKey, ARGV[at + 2 * i - 1], ARGV[at + 2 * i]) end
  at = at + 2 * add + 1
  local remove = tonumber(ARGV[at])
  for i = 1, remove do redis.call('ZREM', timersKey, ARGV[at + i]) end
end
`;

/**
 * Distributed execution's one write per step on a single Redis: the run's state, its history, the
 * tasks it made ready (messages on their queues), its backoff deadlines and the acknowledgement of
 * the message whose outcome it applies, all in one script, so no task is dispatched without the
 * state that started it and no state starts a task without dispatching it. (On a Redis Cluster the
 * queues are on another slot than the run: see outbox.lua.ts.)
 */
export const dispatchRun = {
  name: 'dispatchRun',
  lua: `--[[
  dispatchRun-n: create a run, or apply one versioned write to it (CAS on seq, token checked), and in
  the same step append the messages of the tasks it started to their queues' streams, add and remove
  backoff deadlines, and acknowledge (XACK + XDEL) the message whose outcome it applies; a message this
  consumer no longer holds (another worker claimed it after the visibility timeout) fences the write out.

  KEYS[1] {prefix:runId}:meta    hash
  KEYS[2] {prefix:runId}:parts   hash
  KEYS[3] {prefix:runId}:events  stream (the run's history)
  KEYS[4] {prefix}:timers        sorted set: backoff deadlines, member JSON {r, t, a}, scored by epoch ms
  KEYS[5..] {prefix}:q:<queue>   queue streams (consumer group 'workers') named by index below
  ARGV[1]      kind marker
  ARGV[2]      'create' (token 1, version 0; nothing may be stored under these keys) or 'save'
  ARGV[3]      fencing token read with the run (save)
  ARGV[4]      version written: stored seq + 1 (save)
  ARGV[5..12]  meta block: flow, version, hash, status, createdAt, updatedAt, hasOwner ('0'|'1'), owner
  ARGV[13]     number of set parts n, ARGV[14] number of deleted parts d
  ARGV[15..14+2n] part pairs, then d part names
  then         history cap, number of events m, their JSON array (see appendEvents)
  then         the dispatch block:
               ack: key index into KEYS (0: none), message id, consumer that must hold it
               k dispatches, each: key index into KEYS, message payload (field 'm')
               number of deadlines to add, each: score, member
               number of deadlines to remove, each: member

  Returns {'OK', previousStatus, previousUpdatedAt} when applied,
          {'EXISTS'} when a create finds anything stored under these keys,
          {'FENCED'} when the acknowledged message is no longer this consumer's (nothing written),
          {'LEASE', currentToken} when the token is stale ({'LEASE'} when there is no run),
          {'VERSION', storedSeq} when another write landed first,
          {'CORRUPT', reason} when the keys hold something that is not a taskweave run.
]]
${runStepLua}
${dispatchBlockLua}
local ackKey = tonumber(ARGV[tail])
if ackKey > 0 then
  local ok, pending = pcall(redis.call, 'XPENDING', KEYS[ackKey], 'workers', ARGV[tail + 1], ARGV[tail + 1], 1)
  if not ok or #pending == 0 or pending[1][2] ~= ARGV[tail + 2] then return {'FENCED'} end
end
local written = writeStep()
if written[1] ~= 'OK' then return written end
dispatchBlock(tail, KEYS[4])
return written
`,
} as const;

/**
 * A live worker keeps the messages it is working on: their idle time is reset, but only while it
 * still holds them (XCLAIM alone would take a message back from the worker that re-delivered it).
 */
export const extendClaims = {
  name: 'extendClaims',
  lua: `--[[
  extendClaims-1: set the idle time of messages this consumer holds: 0 to keep them (a live worker
  extends its claim), or the visibility timeout to release them (a closing worker: the next reclaim by
  any worker takes them at once).

  KEYS[1] {prefix}:q:<queue>  stream
  ARGV[1] consumer, ARGV[2] idle time to set (ms), ARGV[3..] message ids

  Returns the ids this consumer no longer holds (another consumer claimed them, or they were acknowledged).
]]
local lost = {}
for i = 3, #ARGV do
  local ok, pending = pcall(redis.call, 'XPENDING', KEYS[1], 'workers', ARGV[i], ARGV[i], 1)
  if ok and #pending == 1 and pending[1][2] == ARGV[1] then
    redis.call('XCLAIM', KEYS[1], 'workers', ARGV[1], 0, ARGV[i], 'IDLE', ARGV[2], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
`,
} as const;

import { dispatchBlockLua, runStepLua } from './dispatchRun.lua.js';

/**
 * Distributed execution on a Redis Cluster: a transactional outbox. A script may touch keys of one
 * slot only, and a run's keys (`{prefix:runId}`) are on another slot than its queues and deadlines
 * (`{prefix}`), so a step is taken in four scripts instead of dispatchRun's one:
 *
 * 1. openOutboxEntry (queue slot): register the step's outbox entry in the index, and check and renew
 *    the worker's claim on the message whose outcome it applies.
 * 2. writeRunOutbox (run slot): the run's write and, in the same script, the entry holding what the
 *    step sends to the queue slot (its dispatch block: acknowledgement, messages, deadlines).
 * 3. relayOutbox (queue slot): that block, applied, and the entry's index member removed; then the
 *    entry itself is deleted (a process dying just before leaves an inert key behind, never a step
 *    unsent).
 * 4. Any worker relays entries registered longer ago than its visibility timeout (dueOutbox, then
 *    takeOutbox): the process that wrote them died (or froze) between 2 and 3.
 *
 * Relaying twice sends a message twice; that is safe (same idempotency key, an outcome applied twice
 * changes nothing, and a worker executes a task only while the stored run still waits for it).
 */

/** The value takeOutbox leaves under an entry's key when the entry was never written. */
const ABANDONED = 'abandoned';

export const openOutboxEntry = {
  name: 'openOutboxEntry',
  lua: `--[[
  openOutboxEntry-1|2: register an outbox entry (scored by the server's clock), and, when the step
  applies a message's outcome, check that this consumer still holds the message and reset its idle
  time (so no other worker reclaims it while the step is written).

  KEYS[1] {prefix}:outbox        sorted set: outbox entry keys, scored by registration time (epoch ms)
  KEYS[2] {prefix}:q:<queue>     the acknowledged message's stream (absent: no message)
  ARGV[1] entry key {prefix:runId}:outbox:<id>, ARGV[2] consumer, ARGV[3] message id

  Returns 'OK', or 'FENCED' (nothing registered) when the message is no longer this consumer's.
]]
if #KEYS > 1 then
  local ok, pending = pcall(redis.call, 'XPENDING', KEYS[2], 'workers', ARGV[3], ARGV[3], 1)
  if not ok or #pending == 0 or pending[1][2] ~= ARGV[2] then return 'FENCED' end
  redis.call('XCLAIM', KEYS[2], 'workers', ARGV[2], 0, ARGV[3], 'IDLE', 0, 'JUSTID')
end
local now = redis.call('TIME')
redis.call('ZADD', KEYS[1], tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000), ARGV[1])
return 'OK'
`,
} as const;

export const writeRunOutbox = {
  name: 'writeRunOutbox',
  lua: `--[[
  writeRunOutbox-4: create a run, or apply one versioned write to it (as dispatchRun), and in the same
  step store the outbox entry: what the step sends to its queues' slot, relayed by relayOutbox.

  KEYS[1] {prefix:runId}:meta    hash
  KEYS[2] {prefix:runId}:parts   hash
  KEYS[3] {prefix:runId}:events  stream (the run's history)
  KEYS[4] {prefix:runId}:outbox:<id>  string: the entry (JSON {k: its queue keys, a: its dispatch block})
  ARGV         as dispatchRun up to its history events, then the entry ('' when there is none)

  Returns as dispatchRun (never 'FENCED'), or {'LATE'} (nothing written) when the entry's key is
  already taken: a worker found it registered long ago and declared it abandoned (takeOutbox), or
  this very write landed before (its reply was lost).
]]
${runStepLua}
if redis.call('EXISTS', KEYS[4]) == 1 then return {'LATE'} end
local written = writeStep()
if written[1] == 'OK' and ARGV[tail] ~= '' then redis.call('SET', KEYS[4], ARGV[tail]) end
return written
`,
} as const;

export const relayOutbox = {
  name: 'relayOutbox',
  lua: `--[[
  relayOutbox-n: apply an outbox entry's dispatch block (see dispatchRun): acknowledge the message
  whose outcome the step applied, append the messages of the tasks it started, add and remove backoff
  deadlines; and remove the entry from the index (the caller deletes the entry itself after: it is on
  the run's slot). Idempotent but for the messages (a second relay appends them again).

  KEYS[1] {prefix}:outbox        sorted set of entry keys
  KEYS[2] {prefix}:timers        sorted set of backoff deadlines
  KEYS[3..] {prefix}:q:<queue>   queue streams named by index in ARGV
  ARGV[1] the entry's key, then the dispatch block (ack key index, id, consumer; k dispatches;
          deadlines added; deadlines removed)

  Returns 'OK'.
]]
${dispatchBlockLua}
dispatchBlock(2, KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return 'OK'
`,
} as const;

export const dueOutbox = {
  name: 'dueOutbox',
  lua: `--[[
  dueOutbox-1: outbox entries registered at least ARGV[1] ms ago (by the server's clock), each
  registered again as of now: the worker that takes them relays them, and another worker sweeping
  meanwhile does not (should this one die first, they come due again after ARGV[1] ms).

  KEYS[1] {prefix}:outbox   sorted set of entry keys
  ARGV[1] age in ms, ARGV[2] most entries returned

  Returns the entry keys.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]), 'LIMIT', 0, tonumber(ARGV[2]))
for _, entry in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', now, entry) end
return due
`,
} as const;

export const takeOutbox = {
  name: 'takeOutbox',
  lua: `--[[
  takeOutbox-1: an abandoned outbox entry, for relaying; an entry registered but never written is
  marked abandoned (for ARGV[1] ms), so the write that registered it, landing late, is refused
  (writeRunOutbox returns LATE) rather than leave an entry nobody will relay.

  KEYS[1] {prefix:runId}:outbox:<id>
  ARGV[1] how long the abandoned mark stays (ms)

  Returns the entry, or false when there is none.
]]
local entry = redis.call('GET', KEYS[1])
if not entry then
  redis.call('SET', KEYS[1], '${ABANDONED}', 'PX', ARGV[1])
  return false
end
if entry == '${ABANDONED}' then return false end
return entry
`,
} as const;

export const OUTBOX_SCRIPTS = [openOutboxEntry, writeRunOutbox, relayOutbox, dueOutbox, takeOutbox];

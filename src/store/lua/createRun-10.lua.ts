import { checkRunLua } from './check-run.lua.js';

/**
 * Scripts live in `.lua.ts` files as string constants, not `.lua` files: `npm run build` (plain `tsc`)
 * and the package's `files: ["dist"]` then ship them with no copy step, and no fs read at runtime.
 */
export const createRun = {
  name: 'createRun',
  lua: `--[[
  createRun-10: create a run with fencing token 1 and version 0, unless its keys hold anything; start
  its history with the events given; on a single Redis, list it in its status index in the same step.

  KEYS[1] {prefix:runId}:meta    hash
  KEYS[2] {prefix:runId}:parts   hash
  KEYS[3] {prefix:runId}:events  stream (the run's history)
  KEYS[4..10] <prefix>:idx:<STATUS>, one per status in RUN_STATUSES order, as saveRun takes them, or
             KEYS[4] alone, the index of the run's status (single Redis only: in a
             Cluster they are on other slots, so the caller passes 3 keys and adds the entry itself)
  ARGV[1]      kind marker
  ARGV[2..9]   meta block: flow, version, hash, status, createdAt, updatedAt, hasOwner ('0'|'1'), owner
  ARGV[10]     runId (the index member)
  ARGV[11]     number of parts n, then ARGV[12..11+2n] part name/value pairs
  ARGV[12+2n]  history length cap, ARGV[13+2n] number of events m, ARGV[14+2n] their JSON array
               (see appendEvents)
  A run that holds exactly this create's content, createdAt included, and was never claimed or
  written since is this very create retried after its reply was lost (a retry resends the same meta),
  not a conflict. Any other create of that id (another start, even with the same inputs and owner) is
  EXISTS: its first snapshot may already be running elsewhere.

  Returns {'OK'} when created (or when this exact create was already applied, index entry included),
          {'EXISTS'} when anything is stored under these keys.
]]
${checkRunLua}
-- One call on the common path (nothing under any of the three keys); the others only when something is.
if redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[3]) > 0 then
  if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then
    if inspectRun(ARGV[1]) == 'ok' and redis.call('HGET', KEYS[1], 'seq') == '0'
      and redis.call('HGET', KEYS[1], 'token') == '1' and holdsWrite(2, 12, tonumber(ARGV[11]), 0) then
      return {'OK'}
    end
    return {'EXISTS'}
  end
  -- No run here: a history left under its id (a run deleted by hand) is not this run's.
  redis.call('DEL', KEYS[3])
end
local n = tonumber(ARGV[11])
local events = appendEvents(0, 12 + 2 * n)
writeMeta(KEYS[1], 2, 'kind', ARGV[1], 'token', '1', 'seq', '0', 'events', events)
hsetPairs(KEYS[2], 12, n)
-- Scored by updatedAt: the time the run entered its status.
local _, to = statusIndexes(nil, ARGV[5])
if to then redis.call('ZADD', to, ARGV[7], ARGV[10]) end
return {'OK'}
`,
} as const;

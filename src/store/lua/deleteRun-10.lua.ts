import { checkRunLua } from './check-run.lua.js';

export const deleteRun = {
  name: 'deleteRun',
  lua: `--[[
  deleteRun-10: delete a run's keys (its history too), optionally only if it still has one of some statuses and was last
  updated before a time (so purge never deletes a run that changed since its index entry was read);
  on a single Redis, remove its status index entries in the same step (a run created again under the
  same id right after keeps its new entry).

  KEYS[1] {prefix:runId}:meta    hash
  KEYS[2] {prefix:runId}:parts   hash
  KEYS[3] {prefix:runId}:events  stream (the run's history)
  KEYS[4..10] <prefix>:idx:<STATUS>, one per status (single Redis only; in a Cluster they are on other
             slots, so the caller passes 3 keys and removes the entries itself)
  ARGV[1] kind marker
  ARGV[2] statuses the run must have, comma-separated ('' = any)
  ARGV[3] the run's updatedAt must be below this (epoch ms; '' = any)
  ARGV[4] runId (the index member)

  Returns {'OK', status} when deleted, {'NONE'} when there is no run,
          {'SKIP', status, updatedAt} when a condition did not hold,
          {'CORRUPT', reason} when the keys hold something that is not a taskweave run (untouched).
]]
${checkRunLua}
local state = inspectRun(ARGV[1])
if state == 'none' then return {'NONE'} end
if state ~= 'ok' then return {'CORRUPT', state} end
local current = redis.call('HMGET', KEYS[1], 'status', 'updatedAt')
local status = current[1] or ''
if ARGV[2] ~= '' and not string.find(',' .. ARGV[2] .. ',', ',' .. status .. ',', 1, true) then
  return {'SKIP', status, current[2]}
end
if ARGV[3] ~= '' and not ((tonumber(current[2]) or 0) < tonumber(ARGV[3])) then
  return {'SKIP', status, current[2]}
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
for i = 4, #KEYS do redis.call('ZREM', KEYS[i], ARGV[4]) end
return {'OK', status}
`,
} as const;

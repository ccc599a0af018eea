import { checkRunLua } from './check-run.lua.js';

export const deleteRun = {
  name: 'deleteRun',
  lua: `--[[
  deleteRun-2: delete a run's keys, optionally only if it still has one of some statuses and was last
  updated before a time (so purge never deletes a run that changed since its index entry was read).

  KEYS[1] {prefix:runId}:meta    hash
  KEYS[2] {prefix:runId}:parts   hash
  ARGV[1] kind marker
  ARGV[2] statuses the run must have, comma-separated ('' = any)
  ARGV[3] the run's updatedAt must be below this (epoch ms; '' = any)

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
redis.call('DEL', KEYS[1], KEYS[2])
return {'OK', status}
`,
} as const;

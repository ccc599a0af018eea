import { checkRunLua } from './check-run.lua.js';

export const loadRun = {
  name: 'loadRun',
  lua: `--[[
  loadRun-2: read a run's meta and parts in one consistent step (no write can fall between them).

  KEYS[1] {prefix:runId}:meta    hash
  KEYS[2] {prefix:runId}:parts   hash
  ARGV[1] kind marker

  Returns {'OK', metaFields, partFields} (flat HGETALL arrays), {'NONE'}, or {'CORRUPT', reason}.
]]
${checkRunLua}
local state = inspectRun(ARGV[1])
if state == 'none' then return {'NONE'} end
if state ~= 'ok' then return {'CORRUPT', state} end
return {'OK', redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
`,
} as const;

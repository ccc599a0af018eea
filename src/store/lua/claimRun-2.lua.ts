import { checkRunLua } from './check-run.lua.js';

export const claimRun = {
  name: 'claimRun',
  lua: `--[[
  claimRun-2: take a run over: increment its fencing token, record the owner, return the whole run.

  KEYS[1] {prefix:runId}:meta    hash
  KEYS[2] {prefix:runId}:parts   hash
  ARGV[1] kind marker
  ARGV[2] owner

  Returns {'OK', token, metaFields, partFields} (fields as flat HGETALL arrays),
          {'NONE'} when there is no run,
          {'CORRUPT', reason} when the keys hold something that is not a taskweave run (untouched).
]]
${checkRunLua}
local state = inspectRun(ARGV[1])
if state == 'none' then return {'NONE'} end
if state ~= 'ok' then return {'CORRUPT', state} end
local token = redis.call('HINCRBY', KEYS[1], 'token', 1)
redis.call('HSET', KEYS[1], 'owner', ARGV[2])
return {'OK', token, redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
`,
} as const;

import { checkRunLua } from './check-run.lua.js';

export const saveRun = {
  name: 'saveRun',
  numberOfKeys: 2,
  lua: `--[[
  saveRun-2: apply one fenced, versioned write: meta fields, changed parts, removed parts.
  Nothing is written unless every check passes.

  KEYS[1] {prefix:runId}:meta    hash
  KEYS[2] {prefix:runId}:parts   hash
  ARGV[1]      kind marker
  ARGV[2]      fencing token the writer holds
  ARGV[3]      version written (must be stored seq + 1)
  ARGV[4]      digest of this write (an exact replay of the last applied write is not a conflict)
  ARGV[5..12]  meta block: flow, version, hash, status, createdAt, updatedAt, hasOwner ('0'|'1'), owner
  ARGV[13]     number of set parts n
  ARGV[14]     number of deleted parts d
  ARGV[15..14+2n]          part name/value pairs to set
  ARGV[15+2n..14+2n+d]     part names to delete

  Returns {'OK', previousStatus, previousUpdatedAt} when applied,
          {'REPLAY'} when this exact write was the last one applied,
          {'LEASE', currentToken} when the token is stale ({'LEASE'} when there is no run),
          {'VERSION', storedSeq} when the version is not the next one,
          {'CORRUPT', reason} when the keys hold something that is not a taskweave run.
]]
${checkRunLua}
local state = inspectRun(ARGV[1])
if state == 'none' then return {'LEASE'} end
if state ~= 'ok' then return {'CORRUPT', state} end
local token = redis.call('HGET', KEYS[1], 'token')
if token ~= ARGV[2] then return {'LEASE', token} end
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
local wanted = tonumber(ARGV[3])
if wanted == seq and redis.call('HGET', KEYS[1], 'write') == ARGV[4] then return {'REPLAY'} end
if wanted ~= seq + 1 then return {'VERSION', seq} end
local previous = redis.call('HMGET', KEYS[1], 'status', 'updatedAt')
redis.call('HSET', KEYS[1], 'seq', ARGV[3], 'write', ARGV[4])
writeMeta(KEYS[1], 5)
local n = tonumber(ARGV[13])
hsetPairs(KEYS[2], 15, n)
hdelNames(KEYS[2], 15 + 2 * n, tonumber(ARGV[14]))
return {'OK', previous[1], previous[2]}
`,
} as const;

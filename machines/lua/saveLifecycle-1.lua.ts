export const saveLifecycle = {
  name: 'saveLifecycle',
  numberOfKeys: 1,
  lua: `--[[
  saveLifecycle-1: compare-and-set one resource's lifecycle snapshot on its version.

  KEYS[1] {prefix:resourceId}:lifecycle   hash: kind, v, snapshot
  ARGV[1] kind marker
  ARGV[2] the version the writer last loaded or saved ('0': it saw no resource)
  ARGV[3] snapshot text (the codec's JSON)

  Returns {'OK', newVersion} when written (or when this exact write was the last one applied: a retry),
          {'CONFLICT', storedVersion} when another writer got there first,
          {'CORRUPT', reason} when the key holds something that is not a taskweave lifecycle.
]]
local kind = ARGV[1]
local expected = tonumber(ARGV[2])
local keyType = redis.call('TYPE', KEYS[1]).ok
if keyType == 'none' then
  if expected ~= 0 then return {'CONFLICT', '0'} end
elseif keyType ~= 'hash' then
  return {'CORRUPT', 'the key holds a Redis ' .. keyType}
else
  local stored = redis.call('HMGET', KEYS[1], 'kind', 'v', 'snapshot')
  if stored[1] ~= kind then return {'CORRUPT', 'kind marker is ' .. tostring(stored[1])} end
  local v = tonumber(stored[2])
  if v == nil then return {'CORRUPT', 'version is ' .. tostring(stored[2])} end
  if v == expected + 1 and stored[3] == ARGV[3] then return {'OK', tostring(v)} end
  if v ~= expected then return {'CONFLICT', tostring(v)} end
end
redis.call('HSET', KEYS[1], 'kind', kind, 'v', tostring(expected + 1), 'snapshot', ARGV[3])
return {'OK', tostring(expected + 1)}
`,
} as const;

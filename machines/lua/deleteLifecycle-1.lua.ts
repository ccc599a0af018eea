export const deleteLifecycle = {
  name: 'deleteLifecycle',
  numberOfKeys: 1,
  lua: `--[[
  deleteLifecycle-1: delete one resource's lifecycle record, only if its snapshot is final (retention).

  KEYS[1] {prefix:resourceId}:lifecycle   hash: kind, v, snapshot
  ARGV[1] kind marker

  Returns {'OK', '1'} when deleted, {'OK', '0'} when there was no record,
          {'NOT_FINAL', stateName} when the resource is not in a final state (kept),
          {'CORRUPT', reason} when the key holds something that is not a taskweave lifecycle (kept).
]]
local keyType = redis.call('TYPE', KEYS[1]).ok
if keyType == 'none' then return {'OK', '0'} end
if keyType ~= 'hash' then return {'CORRUPT', 'the key holds a Redis ' .. keyType} end
local stored = redis.call('HMGET', KEYS[1], 'kind', 'snapshot')
if stored[1] ~= ARGV[1] then return {'CORRUPT', 'kind marker is ' .. tostring(stored[1])} end
local ok, snapshot = pcall(cjson.decode, stored[2] or '')
if not ok or type(snapshot) ~= 'table' then return {'CORRUPT', 'the snapshot is not JSON'} end
if snapshot.status ~= 'done' then return {'NOT_FINAL', tostring(snapshot.value)} end
redis.call('DEL', KEYS[1])
return {'OK', '1'}
`,
} as const;

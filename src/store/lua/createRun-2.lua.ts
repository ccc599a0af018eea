import { checkRunLua } from './check-run.lua.js';

/**
 * Scripts live in `.lua.ts` files as string constants, not `.lua` files: `npm run build` (plain `tsc`)
 * and the package's `files: ["dist"]` then ship them with no copy step, and no fs read at runtime.
 */
export const createRun = {
  name: 'createRun',
  numberOfKeys: 2,
  lua: `--[[
  createRun-2: create a run with fencing token 1 and version 0, unless its keys hold anything.

  KEYS[1] {prefix:runId}:meta    hash
  KEYS[2] {prefix:runId}:parts   hash
  ARGV[1]      kind marker
  ARGV[2]      digest of this create (a replay of the same create is not a conflict)
  ARGV[3..10]  meta block: flow, version, hash, status, createdAt, updatedAt, hasOwner ('0'|'1'), owner
  ARGV[11]     number of parts n, then ARGV[12..11+2n] part name/value pairs

  Returns {'OK'} when created (or when this exact create was already applied),
          {'EXISTS'} when anything is stored under these keys.
]]
${checkRunLua}
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then
  if inspectRun(ARGV[1]) == 'ok' and redis.call('HGET', KEYS[1], 'write') == ARGV[2]
    and redis.call('HGET', KEYS[1], 'seq') == '0' then
    return {'OK'}
  end
  return {'EXISTS'}
end
redis.call('HSET', KEYS[1], 'kind', ARGV[1], 'token', '1', 'seq', '0', 'write', ARGV[2])
writeMeta(KEYS[1], 3)
hsetPairs(KEYS[2], 12, tonumber(ARGV[11]))
return {'OK'}
`,
} as const;

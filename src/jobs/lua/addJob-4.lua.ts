import { checkJobLua } from './check-job.lua.js';

export const addJob = {
  name: 'addJob',
  numberOfKeys: 4,
  lua: String.raw`--[[
  addJob-4: post a job unless one with that id exists (idempotent post), queue it and wake a waiter.

  KEYS[1] {prefix:jobs}:job:<id>   hash, the job
  KEYS[2] {prefix:jobs}:ready      zset, UNCLAIMED jobs (score -priority, member <seq>:<id>)
  KEYS[3] {prefix:jobs}:wake       list, wake-up tokens for waitForWork
  KEYS[4] {prefix:jobs}:seq        counter
  ARGV[1] state index prefix ({prefix:jobs}:state:)
  ARGV[2] id
  ARGV[3] flow
  ARGV[4] inputs (codec string)
  ARGV[5] priority

  Returns 1 when posted, 0 when the key exists (whatever it holds: nothing is changed).
]]
${checkJobLua}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local now = nowMs()
local n = redis.call('INCR', KEYS[4])
enqueue(KEYS[2], KEYS[1], ARGV[2], tonumber(ARGV[5]), n, 'fmt', FORMAT, 'id', ARGV[2], 'flow', ARGV[3],
  'inputs', ARGV[4], 'state', 'UNCLAIMED', 'priority', ARGV[5], 'attempts', 0, 'takeovers', 0,
  'token', 0, 'n', n, 'createdAt', now, 'updatedAt', now)
redis.call('ZADD', ARGV[1] .. 'UNCLAIMED', n, ARGV[2])
wake(KEYS[3])
return 1
`,
} as const;

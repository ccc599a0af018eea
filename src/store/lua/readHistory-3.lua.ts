export const readHistory = {
  name: 'readHistory',
  lua: `--[[
  readHistory-3: a run's history after a seq, read in one step with whether the run exists (so an
  absent run is told from one with no history yet).

  KEYS[1] {prefix:runId}:meta    hash
  KEYS[2] {prefix:runId}:parts   hash (unused; the run's keys are passed alike to every run script)
  KEYS[3] {prefix:runId}:events  stream: entries '0-<seq of their last event>' (see appendEvents)
  ARGV[1] seq to read after (0 for the whole history)

  Returns {'OK', entries} (XRANGE's reply: every entry holding an event after that seq; the first may
  hold earlier ones too, which the caller drops) or {'NONE'} when there is no run.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NONE'} end
return {'OK', redis.call('XRANGE', KEYS[3], '0-' .. (tonumber(ARGV[1]) + 1), '+')}
`,
} as const;

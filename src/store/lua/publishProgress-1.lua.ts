export const publishProgress = {
  name: 'publishProgress',
  numberOfKeys: 1,
  lua: `--[[
  publishProgress-1: PUBLISH a run's progress report from the node serving the run's slot. Used on a
  Cluster only: a plain PUBLISH goes to whichever node the client picks, and two reports published on
  two nodes reach a subscriber on a third in either order (one directly, one over the cluster bus), so
  a progress bar could go back from 100 % to 50 %. Routed by the run's key, one run's reports all leave
  from one node, in the order they were sent.

  KEYS[1] {prefix:runId}:meta   (for routing only; not read)
  ARGV[1] channel
  ARGV[2] report

  Returns the number of subscribers that received it.
]]
return redis.call('PUBLISH', ARGV[1], ARGV[2])
`,
} as const;

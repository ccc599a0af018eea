/**
 * Where a task message waits for a worker that knows its run's flow. A worker that takes a message of
 * a flow (or a structure of it) it does not know moves it to the queue of that flow's version,
 * `<queue>/<flow>@<hash>`, which only workers knowing that structure read — as in Temporal, where a
 * task waits in its task queue until a worker with the right registration polls. During a rolling
 * deploy, old and new workers share the queues and each run's tasks reach the code it started on.
 */
export function versionQueue(queue: string, flow: string, hash: string): string {
  return `${queue}/${flow}@${hash}`;
}

import type { Worker } from '../src/index.js';
import { chain, fan } from './shapes.js';
import { taskweave } from './taskweave.js';

const { createWorker, redisStore } = taskweave;

/**
 * One worker process of the distributed bench (`bench/distributed.ts`), started as a child with an IPC
 * channel: `node --import tsx bench/distributed-worker.ts <redisUrl> <prefix> <label>`. It keeps its
 * store open and its code warm across measurements, and takes tasks only between `{ type: 'start',
 * concurrency }` (answered `started`) and `{ type: 'stop' }` (held tasks drain; answered `stopped`), so
 * that a process not in the measured set adds no polling to Redis. It answers `{ type: 'cpu' }` with
 * its `process.cpuUsage()` and exits on `{ type: 'exit' }`.
 */
const [url = '', prefix = '', label = ''] = process.argv.slice(2);
if (!url || !prefix || !label) {
  console.error(`usage: distributed-worker.ts <redisUrl> <prefix> <label>, got ${process.argv}`);
  process.exit(2);
}

const flows = [fan(10), chain(10)];
const store = redisStore({ redis: url, prefix });
let worker: Worker | undefined;

type Message = { type: 'start'; concurrency: number } | { type: 'stop' | 'cpu' | 'exit' };

process.on('message', (message: Message) => {
  void (async () => {
    switch (message.type) {
      case 'start':
        // One consumer name per process: the group does not grow with every measurement.
        worker = createWorker({ store, flows, concurrency: message.concurrency, id: `bench-${label}` });
        await worker.start();
        return process.send!({ type: 'started' });
      case 'stop':
        await worker?.close({ drain: true });
        worker = undefined;
        return process.send!({ type: 'stopped' });
      case 'cpu':
        return process.send!({ type: 'cpu', cpu: process.cpuUsage() });
      case 'exit':
        await worker?.close({ drain: true });
        await store.close();
        process.exit(0);
    }
  })().catch((error: Error) => {
    console.error(`distributed bench worker ${label}: ${error.stack ?? error.message}`);
    process.exit(1);
  });
});
process.send!({ type: 'ready' });

import { createEngine, linear, parallel, task } from 'taskweave';

// A pretend cloud API: create hands out ids, delete forgets them.
const made = new Map<string, string>();
const cloud = {
  async create(kind: string, key: string) {
    const id = made.get(key) ?? `${kind}-${made.size + 1}`; // idempotent by key
    made.set(key, id);
    return id;
  },
  async delete(_kind: string, id: string) {
    for (const [key, value] of made) if (value === id) made.delete(key);
  },
};

const allocateIp = task({
  name: 'allocate-ip',
  requires: 'network',
  provides: 'ip',
  execute: (_args: { network: string }, ctx) => cloud.create('ip', ctx.idempotencyKey),
  revert: async ({ result }) => { if (result) await cloud.delete('ip', result); },
});
const createVolume = task({
  name: 'create-volume',
  requires: 'sizeGb',
  provides: 'volume',
  execute: (_args: { sizeGb: number }, ctx) => cloud.create('volume', ctx.idempotencyKey),
  revert: async ({ result }) => { if (result) await cloud.delete('volume', result); },
});
const createPort = task({
  name: 'create-port',
  requires: ['network', 'ip'],
  provides: 'port',
  execute: (_args: { network: string; ip: string }, ctx) => cloud.create('port', ctx.idempotencyKey),
  revert: async ({ result }) => { if (result) await cloud.delete('port', result); },
});
const bootVm = task({
  name: 'boot-vm',
  requires: ['ip', 'volume', 'port'],
  provides: 'vm',
  execute: (_args: { ip: string; volume: string; port: string }, ctx) => cloud.create('vm', ctx.idempotencyKey),
  revert: async ({ result }) => { if (result) await cloud.delete('vm', result); },
});

const serverBoot = linear('server-boot', [allocateIp, parallel('prepare', [createVolume, createPort]), bootVm]);

const engine = createEngine(); // in-memory store; pass redisStore(...) to survive restarts
const results = await engine.run(serverBoot, { network: 'net-1', sizeGb: 20 }, { id: 'boot-1' });
console.log(results); // { ip: 'ip-1', volume: 'volume-2', port: 'port-3', vm: 'vm-4' }
await engine.close();

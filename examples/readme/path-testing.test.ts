// README "Test every path of your flow", as a test file of your own (npx vitest run picks up
// test/**/*.test.ts, machines/**/*.test.ts and examples/**/*.test.ts).
import { linear, parallel, task } from 'taskweave';
import { testFlowPaths } from 'taskweave/testing';
import { expect, it } from 'vitest';

// Your code: a tiny fake cloud and the flow that boots a server in it.
const cloud = new Map<string, string>();
const create = (name: string, kind: string, requires: string[] = []) =>
  task({
    name,
    requires,
    provides: kind,
    execute: () => {
      const id = `${kind}-${cloud.size + 1}`;
      cloud.set(id, name);
      return id;
    },
    revert: ({ result }) => {
      if (result) cloud.delete(result as string);
    },
  });
const bootServer = linear('boot-server', [
  create('allocate-ip', 'ip', ['network']),
  parallel('prepare', [create('create-volume', 'volume'), create('create-port', 'port', ['ip'])]),
  create('boot-vm', 'vm', ['volume', 'port']),
]);

it('boot-server leaves nothing behind on any failure', async () => {
  // Throws a PathTestError naming every path that broke an invariant or the check.
  const report = await testFlowPaths(bootServer, {
    inputs: { network: 'net-1' },
    beforePath: () => cloud.clear(),
    check: ({ status }) => (cloud.size === (status === 'SUCCESS' ? 4 : 0) ? undefined : `${cloud.size} left`),
  });
  console.log(`${report.paths} paths checked in ${report.ms} ms`); // 6 paths
  expect(report.paths).toBe(6);
});

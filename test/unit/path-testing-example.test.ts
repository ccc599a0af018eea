// How a user path-tests a flow: enumerate its paths, run the real engine along each, check the world.
// In your project: import { testFlowPaths } from 'taskweave/testing';
import { expect, it } from 'vitest';
import { linear, parallel, retry, task } from '../../src/index.js';
import { testFlowPaths } from '../../src/testing/index.js';

// The user's code: a tiny fake cloud and a flow that boots a server in it.
const cloud = new Map<string, string>();
const create = (name: string, kind: string, requires: string[] = []) =>
  task({
    name,
    requires,
    provides: kind,
    execute: (args) => {
      const id = `${kind}-${cloud.size + 1}`;
      cloud.set(id, Object.values(args).join(','));
      return id;
    },
    revert: ({ result }) => {
      if (result) cloud.delete(result as string);
    },
  });
const bootServer = linear('boot-server', [
  create('allocate-ip', 'ip', ['network']),
  parallel('prepare', [create('create-volume', 'volume'), create('create-port', 'port', ['ip'])]),
  linear('spawn', [create('spawn-vm', 'vm', ['volume', 'port'])], { retry: retry.times(2) }),
]);

it('boot-server leaves nothing behind on any failure, and everything on success', async () => {
  const report = await testFlowPaths(bootServer, {
    inputs: { network: 'net-1' },
    beforePath: () => cloud.clear(),
    check: ({ status }) => {
      const expected = status === 'SUCCESS' ? 4 : 0;
      if (cloud.size !== expected)
        return `${cloud.size} resources left, expected ${expected}: ${[...cloud.keys()]}`;
    },
  });
  expect(report).toMatchObject({ paths: 7, exhaustive: true, violations: [] });
  console.info(`boot-server: ${report.paths} paths checked in ${report.ms} ms`);
});

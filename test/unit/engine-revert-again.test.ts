import { describe, expect, it } from 'vitest';
import { linear, RevertFailedError, task } from '../../src/index.js';
import { newEngine, rejectionOf } from './engine-support.js';

describe('engine.revert after a revert threw', () => {
  it('calls the failed revert again, then reverts what it depends on, and ends REVERTED', async () => {
    const log: string[] = [];
    let broken = true;
    const step = (name: string, fragile = false) =>
      task({
        name,
        provides: name,
        requires: name === 'a' ? [] : [String.fromCharCode(name.charCodeAt(0) - 1)],
        execute: () => {
          log.push(name);
          if (name === 'c') throw new Error('c fails');
          return name;
        },
        revert: () => {
          log.push(`${name} reverted?`);
          if (fragile && broken) throw new Error(`${name} revert is broken`);
          log.push(`${name} reverted`);
        },
      });
    const flow = linear('revert-again', [step('a'), step('b', true), step('c')]);
    const engine = newEngine();
    const error = await rejectionOf(engine.run(flow, {}, { id: 'r1' }));
    expect(error).toBeInstanceOf(RevertFailedError);
    expect(log).toEqual(['a', 'b', 'c', 'c reverted?', 'c reverted', 'b reverted?']);
    expect((await engine.get('r1'))?.meta.status).toBe('FAILURE');

    broken = false;
    log.length = 0;
    await engine.revert('r1');
    expect(log).toEqual(['b reverted?', 'b reverted', 'a reverted?', 'a reverted']);
    const info = await engine.get('r1');
    expect(info?.meta.status).toBe('REVERTED');
    expect(Object.values(info!.tasks).map((t) => t.state)).toEqual(['REVERTED', 'REVERTED', 'REVERTED']);
  });
});

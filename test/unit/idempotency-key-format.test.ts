import { describe, expect, it } from 'vitest';
import { linear, retry, task } from '../../src/index.js';
import { newEngine } from './engine-support.js';

/**
 * `ctx.idempotencyKey` is `<run id>:<task>` until a retry controller runs the task's scope again, then
 * `<run id>:<task>#<iteration>` (README, "At-least-once execution"); with nested scopes, one iteration
 * per scope, innermost first, joined by `.`. Systems that deduplicate on the key rely on exactly
 * these strings, also across versions of taskweave (a resumed run must reuse its keys). Found by
 * Stryker (issue 16): the tests only compared keys, so an empty or always-suffixed key survived.
 */
describe('idempotency keys', () => {
  it('are <run>:<task>, then <run>:<task>#<try> on each retry of the scope, per task', async () => {
    const keys: string[] = [];
    let tries = 0;
    const flow = linear(
      'keys',
      [
        task({ name: 'first', execute: (_args, ctx) => void keys.push(ctx.idempotencyKey) }),
        task({
          name: 'second',
          execute: (_args, ctx) => {
            keys.push(ctx.idempotencyKey);
            tries += 1;
            if (tries < 3) throw new Error('again');
          },
        }),
      ],
      { retry: retry.times(3) },
    );
    await newEngine().run(flow, {}, { id: 'boot-1' });
    expect(keys).toEqual([
      'boot-1:first',
      'boot-1:second',
      'boot-1:first#1',
      'boot-1:second#1',
      'boot-1:first#2',
      'boot-1:second#2',
    ]);
  });

  it('name every scope around the task, innermost first, and leave tasks outside scopes alone', async () => {
    const keys: string[] = [];
    let tries = 0;
    const flow = linear('nested-keys', [
      task({ name: 'outside', execute: (_args, ctx) => void keys.push(ctx.idempotencyKey) }),
      linear(
        'outer',
        [
          linear(
            'inner',
            [
              task({
                name: 'work',
                execute: (_args, ctx) => {
                  keys.push(ctx.idempotencyKey);
                  tries += 1;
                  // The inner scope's two tries fail, then the outer scope's second try succeeds.
                  if (tries < 3) throw new Error('again');
                },
              }),
            ],
            { retry: retry.times(2) },
          ),
        ],
        { retry: retry.times(2) },
      ),
    ]);
    await newEngine().run(flow, {}, { id: 'r' });
    expect(keys).toEqual(['r:outside', 'r:work', 'r:work#1.0', 'r:work#0.1']);
  });
});

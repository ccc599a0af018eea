import { describe, expect, it } from 'vitest';
import {
  decodeValue,
  encodeValue,
  FlowFailedError,
  linear,
  NotSerializableError,
  task,
} from '../../src/index.js';
import { newEngine, rejectionOf, thrownBy } from './engine-support.js';

/** Encode, go through JSON text as a store would, decode. */
const roundTrip = (value: unknown) => decodeValue(JSON.parse(JSON.stringify(encodeValue(value))));

describe('codec round trips', () => {
  it.each([
    ['a string', 'text'],
    ['a number', 42.5],
    ['a boolean', false],
    ['null', null],
    ['undefined', undefined],
    ['a bigint', 12345678901234567890n],
    ['a negative bigint', -7n],
    ['a Date', new Date('2024-05-06T07:08:09.010Z')],
    [
      'a Map',
      new Map<unknown, unknown>([
        ['a', 1],
        [2, 'b'],
      ]),
    ],
    ['a Set', new Set([1, 'two', 3n])],
    ['an array with holes of undefined', [1, undefined, 3]],
    ['NaN and infinities', [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]],
    ['an object with undefined fields', { a: undefined, b: 1 }],
    ['an object with a null prototype', Object.assign(Object.create(null), { a: 1 })],
  ])('%s', (_what, value) => {
    expect(roundTrip(value)).toEqual(value);
  });

  it('nested structures keep every type', () => {
    const value = {
      when: new Date(0),
      big: { n: 2n ** 70n },
      map: new Map<unknown, unknown>([
        ['set', new Set([new Date(1), undefined])],
        [3n, [new Map([['deep', { x: undefined }]])]],
      ]),
      list: [{ a: [1, { b: null }] }],
    };
    const back = roundTrip(value) as typeof value;
    expect(back).toEqual(value);
    expect(back.map.get(3n)).toEqual([new Map([['deep', { x: undefined }]])]);
    expect('x' in ((back.map.get(3n) as Map<string, object>[])[0]!.get('deep') as object)).toBe(true);
  });

  it('an object using the `$tw` key comes back unchanged', () => {
    const tricky = [
      { $tw: 'date', v: '2020-01-01T00:00:00.000Z' },
      { $tw: 'undef' },
      { $tw: 'obj', v: { a: 1 } },
      { $tw: 5, other: [{ $tw: 'big', v: '1' }] },
    ];
    for (const value of tricky) expect(roundTrip(value)).toEqual(value);
    expect(roundTrip({ nested: { $tw: 'map', v: [] } })).toEqual({ nested: { $tw: 'map', v: [] } });
  });

  it('encodes to plain JSON data', () => {
    const encoded = encodeValue({ d: new Date(0), s: new Set([1]), u: undefined });
    expect(JSON.parse(JSON.stringify(encoded))).toEqual(encoded);
  });

  it('does not confuse shared (non-circular) references with cycles', () => {
    const shared = { a: 1 };
    expect(roundTrip({ x: shared, y: shared })).toEqual({ x: { a: 1 }, y: { a: 1 } });
  });
});

describe('NotSerializableError', () => {
  it.each([
    ['a function', { ok: 1, fn: () => 1 }, '$.fn', /a function/],
    ['a symbol', [Symbol('s')], '$[0]', /a symbol/],
    [
      'a class instance',
      { deep: [{ when: new (class Handle {})() }] },
      '$.deep[0].when',
      /an instance of Handle/,
    ],
    [
      'a circular reference',
      (() => {
        const o: Record<string, unknown> = {};
        o.self = o;
        return o;
      })(),
      '$.self',
      /a circular reference/,
    ],
    ['a function inside a Map', new Map([['k', () => 1]]), '$.get(k)', /a function/],
  ])('for %s, naming the path', (_what, value, path, got) => {
    const error = thrownBy(() => encodeValue(value, '$', 'myTask')) as NotSerializableError;
    expect(error).toBeInstanceOf(NotSerializableError);
    expect(error.path).toBe(path);
    expect(error.task).toBe('myTask');
    expect(error.message).toMatch(got);
    expect(error.message).toContain(`\`${path}\``);
  });

  it('fails a task whose result holds a function, naming task and path, without retrying', async () => {
    let executions = 0;
    const flow = linear('bad-result', [
      task({
        name: 'leaky',
        retry: { attempts: 3 },
        execute: () => {
          executions += 1;
          return { handle: { close() {} } };
        },
      }),
    ]);
    const error = await rejectionOf(newEngine().run(flow));
    expect(error).toBeInstanceOf(FlowFailedError);
    const cause = error.cause as NotSerializableError;
    expect(cause).toBeInstanceOf(NotSerializableError);
    expect(cause.task).toBe('leaky');
    expect(cause.path).toBe('$.handle.close');
    expect(cause.message).toMatch(/task `leaky`.*`\$\.handle\.close`/);
    expect(executions).toBe(1);
  });

  it('fails a task whose result is a class instance', async () => {
    class Connection {
      open = true;
    }
    const flow = linear('bad-class', [
      task({ name: 'connect', provides: 'c', execute: () => new Connection() }),
    ]);
    const error = await rejectionOf(newEngine().run(flow));
    expect((error.cause as NotSerializableError).path).toBe('$');
    expect((error.cause as Error).message).toMatch(/an instance of Connection/);
  });

  it("hands a result that could not be stored to the task's revert, so its effect can be undone", async () => {
    class Vm {
      constructor(readonly id: string) {}
    }
    const live = new Set<string>();
    const reverted: unknown[] = [];
    const flow = linear('leaky-vm', [
      task({ name: 'before', provides: 'ok', execute: () => 'ok', revert: () => {} }),
      task({
        name: 'create-vm',
        requires: 'ok',
        provides: 'vm',
        execute: () => {
          live.add('vm-1');
          return new Vm('vm-1'); // made, but not storable
        },
        revert: ({ result, error }) => {
          reverted.push(result);
          expect(error).toBeInstanceOf(NotSerializableError);
          if (result instanceof Vm) live.delete(result.id);
        },
      }),
    ]);
    const error = await rejectionOf(newEngine().run(flow));
    expect(error).toBeInstanceOf(FlowFailedError);
    expect(reverted).toHaveLength(1);
    expect(reverted[0]).toBeInstanceOf(Vm); // the raw value, as execute returned it
    expect(live.size).toBe(0); // nothing leaked
    expect((error.cause as Error).message).toMatch(/revert, if it has one, is given the unstored value/);
  });

  it('refuses run inputs that cannot be stored, at start', () => {
    const flow = linear('bad-input', [task({ name: 'use', requires: 'cb', execute: () => 1 })]);
    const error = thrownBy(() => newEngine().start(flow, { cb: () => 1 })) as NotSerializableError;
    expect(error).toBeInstanceOf(NotSerializableError);
    expect(error.path).toBe('inputs.cb');
  });
});

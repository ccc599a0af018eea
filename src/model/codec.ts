import { NotSerializableError } from '../errors.js';

/**
 * The one serialisation every store applies: JSON plus `undefined`, `Date`, `bigint`, `Map` and `Set`,
 * tagged so they come back as they went in. Anything else (functions, symbols, class instances,
 * cycles) is refused with `NotSerializableError` naming the path, before it reaches a store.
 */
export const TAG = '$tw';

type Encoded = null | boolean | number | string | Encoded[] | { [key: string]: Encoded };

/** Encode a value to plain JSON data; throws `NotSerializableError` with the offending path. */
export function encodeValue(value: unknown, path = '$', task?: string): Encoded {
  return encode(value, path, task, new Set());
}

function encode(value: unknown, path: string, task: string | undefined, seen: Set<object>): Encoded {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : { [TAG]: 'num', v: String(value) };
    case 'undefined':
      return { [TAG]: 'undef' };
    case 'bigint':
      return { [TAG]: 'big', v: value.toString() };
    case 'function':
    case 'symbol':
      throw new NotSerializableError(path, `a ${typeof value}`, task);
  }
  if (value === null) return null;
  const object = value as object;
  if (seen.has(object)) throw new NotSerializableError(path, 'a circular reference', task);
  seen.add(object);
  try {
    if (Array.isArray(object)) return object.map((item, i) => encode(item, `${path}[${i}]`, task, seen));
    if (object instanceof Date) return { [TAG]: 'date', v: object.toISOString() };
    if (object instanceof Map) {
      return {
        [TAG]: 'map',
        v: [...object].map(([k, v], i) => [
          encode(k, `${path}<key ${i}>`, task, seen),
          encode(v, `${path}.get(${String(k)})`, task, seen),
        ]),
      };
    }
    if (object instanceof Set) {
      return {
        [TAG]: 'set',
        v: [...object].map((item, i) => encode(item, `${path}<item ${i}>`, task, seen)),
      };
    }
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      throw new NotSerializableError(path, `an instance of ${object.constructor?.name ?? 'a class'}`, task);
    }
    const out: { [key: string]: Encoded } = {};
    for (const [key, item] of Object.entries(object)) out[key] = encode(item, `${path}.${key}`, task, seen);
    // A user object that happens to use our tag is escaped, so decoding gives it back unchanged.
    return TAG in out ? { [TAG]: 'obj', v: out } : out;
  } finally {
    seen.delete(object);
  }
}

/** The inverse of `encodeValue`. */
export function decodeValue(data: unknown): unknown {
  if (Array.isArray(data)) return data.map(decodeValue);
  if (data === null || typeof data !== 'object') return data;
  const record = data as Record<string, unknown>;
  const tag = record[TAG];
  if (typeof tag === 'string') {
    const v = record.v;
    switch (tag) {
      case 'undef':
        return undefined;
      case 'num':
        return Number(v);
      case 'big':
        return BigInt(v as string);
      case 'date':
        return new Date(v as string);
      case 'map':
        return new Map((v as [unknown, unknown][]).map(([k, x]) => [decodeValue(k), decodeValue(x)]));
      case 'set':
        return new Set((v as unknown[]).map(decodeValue));
      case 'obj':
        return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, decodeValue(x)]));
    }
  }
  return Object.fromEntries(Object.entries(record).map(([k, x]) => [k, decodeValue(x)]));
}

export function stringify(value: unknown): string {
  return JSON.stringify(encodeValue(value));
}

export function parse(text: string): unknown {
  return decodeValue(JSON.parse(text));
}

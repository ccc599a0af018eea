import * as errors from '../errors.js';

/** A failure as stored: plain data, never a live exception (like TaskFlow's `Failure.to_dict`). */
export interface FailureRecord {
  name: string;
  message: string;
  stack?: string;
  cause?: FailureRecord;
  /** Own enumerable fields of the error (e.g. `task`, `timeoutMs`), when serialisable. */
  fields?: Record<string, unknown>;
}

export function toFailureRecord(error: unknown, depth = 0): FailureRecord {
  if (!(error instanceof Error)) {
    return { name: 'Error', message: typeof error === 'string' ? error : safeString(error) };
  }
  const record: FailureRecord = { name: error.name, message: error.message };
  if (error.stack !== undefined) record.stack = error.stack;
  if (error.cause !== undefined && depth < 5) record.cause = toFailureRecord(error.cause, depth + 1);
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key === 'cause' || typeof value === 'function') continue;
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) fields[key] = value;
  }
  if (Object.keys(fields).length > 0) record.fields = fields;
  return record;
}

type ErrorClass = new (...args: any[]) => Error;

/**
 * The error registry: classes a stored failure comes back as, by name. src/errors.ts is in it from the
 * start; other rooms register theirs where they define them (jobs, conductors, lifecycles), so a job's
 * or a resource's stored failure is rebuilt as its own class in any process that loads that room.
 */
const known = new Map<string, ErrorClass>();

/** Add error classes (a module's exports: anything that is not an Error class is skipped). */
export function registerErrors(classes: Readonly<Record<string, unknown>>): void {
  for (const value of Object.values(classes)) {
    if (typeof value === 'function' && value.prototype instanceof Error) {
      known.set(value.name, value as ErrorClass);
    }
  }
}

registerErrors(errors);

/** Turn a stored record back into an error; taskweave's own classes come back as themselves. */
export function fromFailureRecord(record: FailureRecord): Error {
  const Class = known.get(record.name);
  const error: Error = Class ? Object.create(Class.prototype) : new Error(record.message);
  Object.defineProperty(error, 'message', { value: record.message, writable: true, configurable: true });
  Object.defineProperty(error, 'name', { value: record.name, writable: true, configurable: true });
  if (record.stack !== undefined) {
    Object.defineProperty(error, 'stack', { value: record.stack, writable: true, configurable: true });
  }
  if (record.cause) {
    Object.defineProperty(error, 'cause', {
      value: fromFailureRecord(record.cause),
      writable: true,
      configurable: true,
    });
  }
  if (record.fields) Object.assign(error, record.fields);
  return error;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'unprintable error';
  }
}

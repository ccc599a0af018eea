import type { FailureRecord } from '../src/index.js';

/**
 * A failure as plain data for a lifecycle snapshot (the engine's stored failure shape): name, message,
 * stack, causes and the error's own plain fields. Never a live exception, so snapshots persist.
 */
export function toFailure(error: unknown, depth = 0): FailureRecord {
  if (!(error instanceof Error)) {
    return { name: 'Error', message: typeof error === 'string' ? error : safeString(error) };
  }
  const record: FailureRecord = { name: error.name, message: error.message };
  if (error.stack !== undefined) record.stack = error.stack;
  if (error.cause !== undefined && depth < 5) record.cause = toFailure(error.cause, depth + 1);
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key === 'cause' || typeof value === 'function') continue;
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) fields[key] = value;
  }
  if (Object.keys(fields).length > 0) record.fields = fields;
  return record;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'unprintable error';
  }
}

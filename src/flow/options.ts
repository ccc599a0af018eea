import { FlowDefinitionError, showValue } from '../errors.js';

/** Option checks with messages that say what was expected and what was got (p-queue style). */
/** A value as messages show it (see showValue in errors.ts). */
export const describe = showValue;

export function expectName(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new FlowDefinitionError(`Expected \`${what}\` to be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

export function expectNumber(what: string, value: unknown, min: number, integer = false): number {
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    value < min ||
    (integer && !Number.isInteger(value))
  ) {
    throw new FlowDefinitionError(
      `Expected \`${what}\` to be ${integer ? 'an integer' : 'a number'} from ${min} and up, got ${describe(value)}`,
    );
  }
  return value;
}

export function expectNames(what: string, value: unknown): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'string' || item.length === 0)) {
    throw new FlowDefinitionError(
      `Expected \`${what}\` to be a name or a list of non-empty names, got ${describe(value)}`,
    );
  }
  return [...new Set(list as string[])];
}

export function expectRecord(what: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FlowDefinitionError(`Expected \`${what}\` to be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Flow } from '../flow/types.js';
import { CommandFailedError } from './cli-errors.js';

const FLOW_KINDS = new Set(['linear', 'parallel', 'graph']);

export function isFlow(value: unknown): value is Flow {
  return (
    value !== null &&
    typeof value === 'object' &&
    FLOW_KINDS.has((value as Flow).kind) &&
    typeof (value as Flow).name === 'string' &&
    Array.isArray((value as Flow).children)
  );
}

/** Flows among a module's exports: exported flows, and flows in exported arrays (`export const flows = [...]`). */
export function flowsOf(exports: Record<string, unknown>): Flow[] {
  const found = new Map<string, Flow>();
  const add = (value: unknown) => {
    if (isFlow(value) && !found.has(value.name)) found.set(value.name, value);
  };
  for (const value of Object.values(exports)) {
    if (Array.isArray(value)) value.forEach(add);
    else add(value);
  }
  const fallback = exports.default;
  if (fallback && typeof fallback === 'object' && !isFlow(fallback) && !Array.isArray(fallback)) {
    for (const value of Object.values(fallback)) add(value);
  }
  return [...found.values()];
}

const TS = /\.(ts|mts|cts|tsx)$/;
let tsxRegistered = false;

/** Is a TypeScript loader (tsx) already in place? The in-repo bin registers it before loading the CLI. */
export function markTypeScriptLoaded(): void {
  tsxRegistered = true;
}

/**
 * Load a JS or TS module and return the flows it exports. TS modules load through `tsx` when it is
 * installed; when it is not, the error says so (and how to fix it).
 */
export async function loadFlows(modulePath: string): Promise<{ path: string; flows: Flow[] }> {
  const path = resolve(modulePath);
  if (!existsSync(path)) {
    throw new CommandFailedError(
      `Expected a module at ${path}, got no such file. Pass the path of a JS or TS module that exports flows.`,
    );
  }
  if (TS.test(path) && !tsxRegistered && !process.execArgv.some((a) => a.includes('tsx'))) {
    try {
      const api = (await import('tsx/esm/api')) as { register(): unknown };
      api.register();
      tsxRegistered = true;
    } catch (error) {
      throw new CommandFailedError(
        `${modulePath} is TypeScript, and tsx is not installed to load it. Install it (npm install --save-dev tsx) or pass the module's compiled JavaScript.`,
        { cause: error },
      );
    }
  }
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new CommandFailedError(`Could not load ${modulePath}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const flows = flowsOf(exports);
  if (flows.length === 0) {
    const names = Object.keys(exports).join(', ') || 'none';
    throw new CommandFailedError(
      `Expected ${modulePath} to export flows made by linear(), parallel() or graph(), got none (its exports: ${names}).`,
    );
  }
  return { path, flows };
}

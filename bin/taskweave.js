#!/usr/bin/env node
// The `taskweave` command. In a clone of the repository it runs the TypeScript sources through tsx
// (no build step); in the published package it runs the compiled `dist/`.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let cli;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(source.href);
  cli.markTypeScriptLoaded?.();
} else {
  cli = await import('../dist/src/cli/main.js');
}
process.exitCode = await cli.main(process.argv);

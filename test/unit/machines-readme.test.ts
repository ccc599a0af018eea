import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type LifecycleDefinition,
  lifecycleToMarkdown,
  serverLifecycle,
  stackLifecycle,
  volumeLifecycle,
} from '../../machines/index.js';

/**
 * README's "Resource lifecycles" holds each machine's states, events and diagram as written by
 * lifecycleToMarkdown, between `<!-- lifecycleToMarkdown(<table>) -->` and its end marker. After a table
 * changes: UPDATE_GOLDEN=1 npx vitest run test/unit/machines-readme.test.ts
 */
const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const END = '<!-- end lifecycleToMarkdown -->';
const tables: [string, LifecycleDefinition][] = [
  ['serverLifecycle', serverLifecycle],
  ['volumeLifecycle', volumeLifecycle],
  ['stackLifecycle', stackLifecycle],
];

function generated(readme: string, name: string): { at: number; end: number } {
  const begin = `<!-- lifecycleToMarkdown(${name}) -->\n`;
  const at = readme.indexOf(begin);
  expect(at, `README has ${begin.trim()}`).toBeGreaterThan(-1);
  return { at: at + begin.length, end: readme.indexOf(END, at) };
}

describe('README lifecycle tables', () => {
  if (process.env.UPDATE_GOLDEN === '1') {
    let readme = readFileSync(README, 'utf8');
    for (const [name, table] of tables) {
      const { at, end } = generated(readme, name);
      readme = `${readme.slice(0, at)}${lifecycleToMarkdown(table)}${readme.slice(end)}`;
    }
    writeFileSync(README, readme);
  }
  const readme = readFileSync(README, 'utf8');

  it.each(tables)('%s: README shows what lifecycleToMarkdown writes from the table', (name, table) => {
    const { at, end } = generated(readme, name);
    expect(readme.slice(at, end)).toBe(lifecycleToMarkdown(table));
  });

  it('lists every state and every event of each table', () => {
    for (const [name, table] of tables) {
      const { at, end } = generated(readme, name);
      const text = readme.slice(at, end);
      for (const state of Object.keys(table.states)) expect(text).toContain(`| \`${state}\``);
      for (const spec of Object.values(table.states)) {
        for (const event of Object.keys(spec.on ?? {})) expect(text).toContain(`| \`${event}\` |`);
      }
      for (const event of Object.keys(table.common ?? {})) expect(text).toContain(`| \`${event}\` |`);
    }
  });
});

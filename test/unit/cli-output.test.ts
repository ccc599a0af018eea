import { describe, expect, it } from 'vitest';
import { colorEnabled, makeStyle, table } from '../../src/cli/output.js';

/** The CLI's colours and tables (the commands themselves are run as a user runs them in cli.test.ts). */
describe('taskweave command output', () => {
  const tty = { isTTY: true } as NodeJS.WriteStream;
  const pipe = { isTTY: false } as NodeJS.WriteStream;

  it('colours only a terminal, never with NO_COLOR (any non-empty value) or TERM=dumb', () => {
    expect(colorEnabled(tty, {})).toBe(true);
    expect(colorEnabled(pipe, {})).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: 'false' })).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: '' })).toBe(true); // no-color.org: set and not empty
    expect(colorEnabled(tty, { TERM: 'dumb' })).toBe(false);
  });

  it('aligns columns by what a terminal shows: colour codes take no room', () => {
    // Coloured by hand: node's styleText itself leaves text plain when the test's stdout is no terminal.
    const green = (t: string) => `\u001b[32m${t}\u001b[39m`;
    const text = table(
      ['ID', 'STATUS', 'OWNER'],
      [
        ['a', green('SUCCESS'), 'vm:1'],
        ['long-id', green('FAILURE'), ''],
      ],
      makeStyle(false),
    );
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing ANSI escapes is the point
    const plain = text.replace(/\u001b\[[0-9;]*m/g, '').split('\n');
    expect(plain).toEqual(['ID       STATUS   OWNER', 'a        SUCCESS  vm:1', 'long-id  FAILURE']);
    expect(text).toContain('\u001b[32mSUCCESS\u001b[39m  vm:1');
  });
});

import { styleText } from 'node:util';

/**
 * How the CLI prints: for people (aligned tables, colours only on a terminal and never with NO_COLOR)
 * or, with `--json`, one JSON document on stdout. Errors always go to stderr as one line.
 */
export interface Output {
  readonly json: boolean;
  readonly color: boolean;
  /** A line (or lines) for people on stdout. */
  line(text?: string): void;
  /** The one JSON document of a `--json` command. */
  data(value: unknown): void;
  /** A note on stderr (progress of a long command, warnings): never mixed into stdout. */
  note(text: string): void;
  style: Style;
}

type Color = Parameters<typeof styleText>[0];
export type Style = Record<
  'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'blue' | 'cyan' | 'magenta' | 'gray',
  (text: string) => string
>;

/** Colours on a TTY only, and never when NO_COLOR is set (https://no-color.org) or TERM is dumb. */
export function colorEnabled(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

export function makeStyle(enabled: boolean): Style {
  const paint = (color: Color) => (text: string) => (enabled ? styleText(color, text) : text);
  return {
    bold: paint('bold'),
    dim: paint('dim'),
    red: paint('red'),
    green: paint('green'),
    yellow: paint('yellow'),
    blue: paint('blue'),
    cyan: paint('cyan'),
    magenta: paint('magenta'),
    gray: paint('gray'),
  };
}

export function makeOutput(
  json: boolean,
  stdout: NodeJS.WriteStream = process.stdout,
  stderr: NodeJS.WriteStream = process.stderr,
): Output {
  const color = !json && colorEnabled(stdout);
  return {
    json,
    color,
    line: (text = '') => stdout.write(`${text}\n`),
    data: (value) => stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    note: (text) => stderr.write(`${text}\n`),
    style: makeStyle(color),
  };
}

/** The colour of a run status, task state or job state: green done, red failed, yellow busy. */
export function paintState(style: Style, state: string): string {
  switch (state) {
    case 'SUCCESS':
    case 'COMPLETE':
      return style.green(state);
    case 'FAILURE':
    case 'REVERT_FAILURE':
    case 'FAILED':
      return style.red(state);
    case 'RUNNING':
    case 'CLAIMED':
      return style.blue(state);
    case 'RETRYING':
    case 'REVERTING':
    case 'SUSPENDED':
      return style.yellow(state);
    case 'REVERTED':
    case 'CANCELLED':
      return style.magenta(state);
    default:
      return style.gray(state);
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ANSI = /\u001b\[[0-9;]*m/g;

/** Width as a terminal shows it (colour codes take no room). */
export function visibleWidth(text: string): number {
  return [...text.replace(ANSI, '')].length;
}

/** Rows under a header, each column as wide as its widest cell; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], style: Style): string {
  const widths = header.map((h, i) =>
    Math.max(visibleWidth(h), ...rows.map((r) => visibleWidth(r[i] ?? ''))),
  );
  const pad = (cell: string, i: number) =>
    i === header.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleWidth(cell));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => pad(c, i))
      .join('  ')
      .trimEnd();
  return [style.bold(line(header)), ...rows.map(line)].join('\n');
}

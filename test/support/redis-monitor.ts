import { connect } from 'node:net';

/** One command MONITOR saw: its arguments (as bytes, unescaped) and who sent it (`lua` for a script). */
export interface Monitored {
  args: Buffer[];
  source: string;
}

/**
 * MONITOR on a raw socket. ioredis' `monitor()` can fail with "Command queue state error" when
 * MONITOR's stream starts while its own queue is still settling (seen under load in a full suite run);
 * a socket that sends one line and reads lines has no queue to get out of step.
 */
export async function monitorRedis(
  url: string,
  onCommand: (command: Monitored) => void,
): Promise<{ stop(): void }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.setNoDelay(true);
  let buffered = '';
  let resolveReady!: () => void;
  let rejectReady!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  socket.once('error', (error) => rejectReady(error));
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let end = buffered.indexOf('\r\n');
    while (end >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      end = buffered.indexOf('\r\n');
      if (line === '+OK') resolveReady();
      else if (line.startsWith('-')) rejectReady(new Error(`MONITOR refused: ${line}`));
      else {
        const parsed = parseMonitorLine(line);
        if (parsed) onCommand(parsed);
      }
    }
  });
  socket.write('MONITOR\r\n');
  await ready;
  return { stop: () => socket.destroy() };
}

/** `+1733371234.123456 [0 127.0.0.1:54321] "evalsha" "ab\"c" …` → its source and unescaped arguments. */
function parseMonitorLine(line: string): Monitored | undefined {
  const head = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] /.exec(line);
  if (!head) return undefined;
  const args: Buffer[] = [];
  for (const match of line.slice(head[0].length).matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    args.push(unquote(match[1]!));
  }
  return { args, source: head[1]! };
}

const ESCAPES: Record<string, number> = { n: 10, r: 13, t: 9, a: 7, b: 8, '"': 34, '\\': 92 };

/** Redis' `sdscatrepr` quoting, undone: \xHH, \n, \r, \t, \a, \b, \", \\ ; the rest byte for byte. */
function unquote(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      bytes.push(text.charCodeAt(i) & 0xff);
      continue;
    }
    const next = text[i + 1]!;
    if (next === 'x') {
      bytes.push(Number.parseInt(text.slice(i + 2, i + 4), 16));
      i += 3;
    } else {
      bytes.push(ESCAPES[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes);
}

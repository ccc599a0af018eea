import { type ChildProcess, fork } from 'node:child_process';

/** A bench worker process (a TypeScript module forked with tsx), spoken to over IPC. */
export interface BenchProcess {
  process: ChildProcess;
  /** Send `message` and resolve with the first reply of type `answer`; rejects if the process exits first. */
  request<T extends { type: string }>(message: object, answer: string): Promise<T>;
  /** Send `message` (the process exits on it) and wait for the exit; SIGKILL after 10 s. */
  end(message: object): Promise<void>;
}

/** Fork `script` with `args`, resolving once it sends `{ type: 'ready' }`. */
export async function forkBenchProcess(
  script: URL,
  args: readonly string[],
  label: string,
): Promise<BenchProcess> {
  const child = fork(script, args, {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench process ${label} exited with ${code}`)));
  });
  exited.catch(() => {});
  const reply = <T extends { type: string }>(type: string) =>
    Promise.race([
      exited,
      new Promise<T>((resolve) => {
        const onMessage = (m: T) => {
          if (m.type !== type) return;
          child.off('message', onMessage);
          resolve(m);
        };
        child.on('message', onMessage);
      }),
    ]);
  await reply('ready');
  return {
    process: child,
    request(message, answer) {
      const answered = reply<never>(answer);
      child.send(message);
      return answered;
    },
    end(message) {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.send(message);
      });
    },
  };
}

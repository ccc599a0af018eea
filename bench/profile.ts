import { Session } from 'node:inspector/promises';

/**
 * A CPU profile of a piece of the bench (the V8 profiler `node --cpu-prof` uses, started in-process so
 * only the measured part is profiled), summed by self time per area and per function.
 */
export interface ProfileSummary {
  totalMs: number;
  /** Share of samples per area: idle (waiting on Redis), GC, xstate, ioredis, taskweave files, … */
  areas: { area: string; ms: number; share: number }[];
  /** Hottest functions by self time. */
  functions: { fn: string; ms: number; share: number }[];
  /** taskweave's own functions by inclusive time (callees counted, recursion once). */
  own: { fn: string; ms: number; share: number }[];
}

export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

function areaOf(url: string, fn: string): string {
  if (fn === '(idle)') return 'idle (waiting for Redis)';
  if (fn === '(garbage collector)') return 'garbage collector';
  if (fn === '(program)') return '(program: native, not attributed)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(src\/[^?]+)$/.exec(url);
  if (own) return `taskweave ${own[1]}`;
  if (url.startsWith('node:') || url === '') return 'node internals';
  const bench = /\/(bench\/[^?]+)$/.exec(url);
  return bench ? bench[1]! : url;
}

export async function profile(run: () => Promise<unknown>): Promise<ProfileSummary> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  await run();
  const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
  session.disconnect();
  return summarize(profile);
}

/** Sum a V8 CPU profile (the inspector's, or a `node --cpu-prof` file's) by area and by function. */
export function summarize(profile: CpuProfile, sizes = { functions: 12, own: 10 }): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const label = (frame: CpuProfile['nodes'][number]['callFrame']) => {
    const file = frame.url.replace(/^.*\/(node_modules|src|bench)\//, '$1/');
    // tsx-compiled files' line numbers are not the source's: name the file only.
    const where =
      file.startsWith('node_modules/') || file.startsWith('node:') ? `${file}:${frame.lineNumber + 1}` : file;
    return `${frame.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
  };
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  const selfUs = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const frame = byId.get(id)!.callFrame;
    // The inspector's own work (collecting the profile at Profiler.stop) is not the bench's.
    if (frame.functionName === 'dispatch' && frame.url === '') return;
    total += us;
    selfUs.set(id, (selfUs.get(id) ?? 0) + us);
    const area = areaOf(frame.url, frame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
    fns.set(label(frame), (fns.get(label(frame)) ?? 0) + us);
  });
  // Inclusive time of taskweave's functions: each node's subtree, a function counted once per stack.
  const inclusive = new Map<number, number>();
  const subtree = (id: number): number => {
    let us = selfUs.get(id) ?? 0;
    for (const child of byId.get(id)!.children ?? []) us += subtree(child);
    inclusive.set(id, us);
    return us;
  };
  const root = profile.nodes[0]!.id;
  subtree(root);
  const own = new Map<string, number>();
  const walk = (id: number, open: Set<string>) => {
    const node = byId.get(id)!;
    const key = /\/src\//.test(node.callFrame.url) ? label(node.callFrame) : undefined;
    const outermost = key !== undefined && !open.has(key);
    if (outermost) {
      own.set(key, (own.get(key) ?? 0) + inclusive.get(id)!);
      open.add(key);
    }
    for (const child of node.children ?? []) walk(child, open);
    if (outermost) open.delete(key);
  };
  walk(root, new Set());
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => ({ k, ms: us / 1000, share: us / total }));
  return {
    totalMs: total / 1000,
    areas: top(areas, 10).map(({ k, ms, share }) => ({ area: k, ms, share })),
    functions: top(fns, sizes.functions).map(({ k, ms, share }) => ({ fn: k, ms, share })),
    own: top(own, sizes.own).map(({ k, ms, share }) => ({ fn: k, ms, share })),
  };
}

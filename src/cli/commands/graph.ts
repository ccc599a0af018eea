import { Command } from 'commander';
import { compile } from '../../compile/compile.js';
import { toDot } from '../../compile/dot.js';
import { flowStructure } from '../../compile/flow-structure.js';
import { toMermaid } from '../../compile/mermaid.js';
import { action } from '../action.js';
import { CommandFailedError, UsageError } from '../cli-errors.js';
import { loadFlows } from '../load-flows.js';

export function graphCommand(): Command {
  return new Command('graph')
    .description("print a flow's graph: tasks and dependencies, or Mermaid / Graphviz DOT")
    .argument('<module>', 'JS or TS module exporting flows')
    .argument('<flow>', 'flow name')
    .option('--mermaid', 'a Mermaid flowchart')
    .option('--dot', 'a Graphviz digraph')
    .action(
      action(async (ctx, modulePath: string, name: string, opts: { mermaid?: boolean; dot?: boolean }) => {
        if (opts.mermaid && opts.dot) throw new UsageError('Expected one of --mermaid and --dot, got both.');
        const { flows } = await loadFlows(modulePath);
        const flow = flows.find((f) => f.name === name);
        if (!flow) {
          throw new CommandFailedError(
            `No flow \`${name}\` in ${modulePath}; it exports: ${flows.map((f) => f.name).join(', ')}.`,
          );
        }
        if (opts.mermaid) return void process.stdout.write(toMermaid(flow));
        if (opts.dot) return void process.stdout.write(toDot(flow));
        const shape = flowStructure(compile(flow));
        if (ctx.out.json) return void ctx.out.data(shape);
        const s = ctx.out.style;
        ctx.out.line(`${s.bold(shape.name)} (version ${shape.version}, hash ${shape.hash})`);
        const deps = new Map<string, string[]>();
        for (const [from, to] of shape.edges) deps.set(to, [...(deps.get(to) ?? []), from]);
        for (const t of shape.tasks) {
          const after = deps.get(t.name);
          ctx.out.line(`  ${t.name}${after ? s.dim(` ← ${after.join(', ')}`) : ''}`);
        }
      }),
    );
}

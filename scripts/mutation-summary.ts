/**
 * Summarise Stryker's report (reports/mutation/mutation.json) as Markdown: the score per file and every
 * mutant that survived or had no coverage, with its line and replacement. `npm run mutate` runs it after
 * Stryker (as npm's `postmutate`); it writes reports/mutation/summary.md, from which docs/mutation.md is
 * updated by hand (with the reason each survivor is harmless, or the test that now kills it).
 *
 * Usage: tsx scripts/mutation-summary.ts [report.json] [out.md]
 */
import { readFileSync, writeFileSync } from 'node:fs';

interface Mutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status:
    | 'Killed'
    | 'Survived'
    | 'NoCoverage'
    | 'Timeout'
    | 'CompileError'
    | 'RuntimeError'
    | 'Ignored'
    | 'Pending';
  statusReason?: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}

interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}

const [input = 'reports/mutation/mutation.json', output = 'reports/mutation/summary.md'] =
  process.argv.slice(2);
const report = JSON.parse(readFileSync(input, 'utf8')) as Report;

interface Counts {
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  ignored: number;
  errors: number;
}
const empty = (): Counts => ({ killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0, errors: 0 });
const add = (c: Counts, m: Mutant) => {
  if (m.status === 'Killed') c.killed += 1;
  else if (m.status === 'Timeout') c.timeout += 1;
  else if (m.status === 'Survived') c.survived += 1;
  else if (m.status === 'NoCoverage') c.noCoverage += 1;
  else if (m.status === 'Ignored') c.ignored += 1;
  else c.errors += 1;
};
/** Stryker's "total" score: detected (killed or timed out) over every valid mutant. */
const score = (c: Counts) => {
  const valid = c.killed + c.timeout + c.survived + c.noCoverage;
  return valid === 0 ? 'n/a' : `${((100 * (c.killed + c.timeout)) / valid).toFixed(1)} %`;
};

const total = empty();
const rows: string[] = [];
const survivors: string[] = [];
for (const [file, { source, mutants }] of Object.entries(report.files).sort(([a], [b]) =>
  a.localeCompare(b),
)) {
  const counts = empty();
  const lines = source.split('\n');
  for (const m of mutants) {
    add(counts, m);
    add(total, m);
    if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
    const { line, column } = m.location.start;
    const original = (lines[line - 1] ?? '').trim().slice(0, 100);
    const replacement = (m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 80);
    survivors.push(
      `| ${file}:${line}:${column} | ${m.mutatorName} | ${m.status === 'NoCoverage' ? 'no coverage' : 'survived'} | \`${cell(original)}\` | \`${cell(replacement)}\` |`,
    );
  }
  rows.push(
    `| ${file} | ${score(counts)} | ${counts.killed} | ${counts.timeout} | ${counts.survived} | ${counts.noCoverage} | ${counts.ignored} |`,
  );
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/`/g, "'");
}

const markdown = [
  `# Mutation report summary (${new Date().toISOString().slice(0, 10)})`,
  '',
  `Score (killed + timed out over all valid mutants): **${score(total)}** — ${total.killed} killed, ${total.timeout} timed out, ${total.survived} survived, ${total.noCoverage} without coverage, ${total.ignored} ignored (static or disabled), ${total.errors} errors.`,
  '',
  '| file | score | killed | timeout | survived | no coverage | ignored |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows,
  '',
  '## Survivors and mutants without coverage',
  '',
  '| where | mutator | status | original line | replacement |',
  '| --- | --- | --- | --- | --- |',
  ...survivors,
  '',
].join('\n');
writeFileSync(output, markdown);
console.log(
  `Mutation score ${score(total)} (${total.survived} survived, ${total.noCoverage} no coverage). Summary: ${output}`,
);

import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DIAGRAMS_DIR, diagrams, writeDiagrams } from '../../examples/diagrams.js';

/**
 * examples/diagrams/ holds a Mermaid and a Graphviz diagram per example flow and lifecycle machine
 * (issue 5 item 4). They must match what the code draws now. After an intended change:
 *
 *   UPDATE_GOLDEN=1 npx vitest run test/unit/diagrams.test.ts     (or: npx tsx examples/diagrams.ts --update)
 */
const update = process.env.UPDATE_GOLDEN === '1';

describe('committed example diagrams', async () => {
  if (update) await writeDiagrams();
  const expected = diagrams();

  it('are exactly the ones the examples have: none missing, none left over', async () => {
    const committed = (await readdir(DIAGRAMS_DIR)).filter((file) => /\.(mmd|dot)$/.test(file)).sort();
    expect(committed).toEqual([...expected.keys()]);
  });

  it.each([...expected])('%s matches its regeneration', async (file, text) => {
    expect(await readFile(`${DIAGRAMS_DIR}${file}`, 'utf8')).toBe(text);
  });

  it('include every example flow and the three lifecycles', () => {
    const names = [...expected.keys()].filter((file) => file.endsWith('.mmd')).map((f) => f.slice(0, -4));
    expect(names).toEqual(
      expect.arrayContaining([
        'hello',
        'server-boot',
        'server-delete',
        'lifecycle-server',
        'lifecycle-volume',
        'lifecycle-stack',
      ]),
    );
    expect(expected.get('lifecycle-server.mmd')).toContain('INIT --> BUILDING : CREATE');
    expect(expected.get('server-boot.dot')).toMatch(/^digraph "server-boot" \{/);
  });
});

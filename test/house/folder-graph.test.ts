import { describe, expect, it } from 'vitest';
import { cycles, folderEdges, folderOf, type FolderEdge } from '../../scripts/folder-graph';

const edge = (from: string, to: string): FolderEdge => ({ from, to, imports: [`${from}/a.ts -> ${to}/b.ts`] });

describe('the folder graph', () => {
  it('finds a loop of folders, and none in a layered graph', () => {
    expect(cycles([edge('a', 'b'), edge('b', 'c'), edge('c', 'a'), edge('c', 'd')])).toEqual([['a', 'b', 'c']]);
    expect(cycles([edge('a', 'b'), edge('b', 'c'), edge('a', 'c')])).toEqual([]);
    expect(folderOf('src/judges/prompts/rubric.ts')).toBe('src/judges');
    expect(folderOf('workflows/rft-run.ts')).toBe('workflows');
  });

  it('has no cycle in src/, workflows/ and activities/: every folder sits above the ones it imports', async () => {
    const edges = await folderEdges();
    expect(edges.length).toBeGreaterThan(20);
    const loops = cycles(edges);
    // The message names each import that holds a loop together.
    const inLoops = edges.filter((e) => loops.some((c) => c.includes(e.from) && c.includes(e.to)));
    expect(loops, inLoops.map((e) => `${e.from} -> ${e.to}: ${e.imports.join(', ')}`).join('\n')).toEqual([]);
  }, 60_000);
});

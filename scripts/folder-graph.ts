/**
 * The folder graph of Arbiter's code: which top-level folder (src/<folder>, workflows,
 * activities) imports which, type-only imports included, and the cycles in it. A folder sits
 * above every folder it imports; a cycle means two folders each need the other, so neither can
 * be read, tested or moved alone. dependency-cruiser reads and resolves the imports (TypeScript
 * paths, `import type`, re-exports); this file only folds modules into folders and finds loops.
 *
 *   npx tsx scripts/folder-graph.ts   prints every folder edge (with an import that makes it) and any cycle
 */
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { fileURLToPath } from 'node:url';

export const ROOTS = ['src', 'workflows', 'activities'];

/** src/judges/prompts/x.ts → src/judges; workflows/x.ts → workflows. */
export function folderOf(path: string): string {
  const parts = path.split('/');
  return parts[0] === 'src' && parts.length > 2 ? `src/${parts[1]}` : parts[0]!;
}

export interface FolderEdge {
  from: string;
  to: string;
  /** The imports behind the edge, as `module -> module`. */
  imports: string[];
}

export async function folderEdges(cwd = process.cwd()): Promise<FolderEdge[]> {
  const previous = process.cwd();
  process.chdir(cwd);
  try {
    const { output } = await cruise(ROOTS, {
      tsPreCompilationDeps: true,
      doNotFollow: { path: 'node_modules' },
      exclude: { path: '(^|/)node_modules/' },
    });
    const edges = new Map<string, FolderEdge>();
    for (const module of (output as ICruiseResult).modules) {
      const from = folderOf(module.source);
      if (!ROOTS.includes(module.source.split('/')[0]!)) continue;
      for (const dep of module.dependencies) {
        if (!ROOTS.includes(dep.resolved.split('/')[0]!)) continue;
        const to = folderOf(dep.resolved);
        if (to === from) continue;
        const key = `${from} ${to}`;
        const edge = edges.get(key) ?? { from, to, imports: [] };
        edge.imports.push(`${module.source} -> ${dep.resolved}`);
        edges.set(key, edge);
      }
    }
    return [...edges.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  } finally {
    process.chdir(previous);
  }
}

/** Groups of folders that reach each other (Tarjan's strongly connected components, size > 1). */
export function cycles(edges: FolderEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const nodes = [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort();
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const v of nodes) if (!index.has(v)) visit(v);
  return found;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const edges = await folderEdges();
  for (const e of edges) console.log(`${e.from} -> ${e.to}  (${e.imports.length}; e.g. ${e.imports[0]})`);
  const loops = cycles(edges);
  console.log(loops.length === 0 ? 'no folder cycles' : loops.map((c) => `cycle: ${c.join(', ')}`).join('\n'));
  process.exitCode = loops.length === 0 ? 0 : 1;
}

/**
 * The source tree's layers, checked on every run so they stay true: each folder of src/
 * imports only from layers below it (or its own), and no files import each other in a
 * loop. Type-only imports count: they tie the code together just the same.
 *
 *   ui → state → worker, cli → engine → tuning → model → data, formats, tokenizer, storage → errors
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '../../src');

/** Higher imports lower; the same rank may import each other (but never in a loop). */
const RANK: Record<string, number> = {
  ui: 8, 'main.tsx': 8,
  state: 7,
  worker: 6, cli: 6,
  engine: 5,
  tuning: 4,
  model: 3,
  data: 2, formats: 2, tokenizer: 2, storage: 2,
  'errors.ts': 1,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(name) ? [full] : [];
  });
}

/** The files a file imports (relative specifiers only), resolved to paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^'";]*?from\s+'(\.[^']+)'/gm), ...text.matchAll(/^\s*import\s+'(\.[^']+)'/gm)]
    .map((m) => m[1].replace(/\?.*$/, ''));
  return specifiers.map((s) => {
    const base = path.resolve(path.dirname(file), s);
    for (const candidate of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')]) {
      try {
        if (statSync(candidate).isFile()) return candidate;
      } catch { /* next */ }
    }
    throw new Error(`${path.relative(SRC, file)} imports ${s}, which does not resolve`);
  }).filter((f) => f.startsWith(SRC) && /\.tsx?$/.test(f));
}

const area = (file: string) => path.relative(SRC, file).split(path.sep)[0];
const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe('the layers of src/', () => {
  it('every top-level folder and file has a layer', () => {
    expect([...new Set(files.map(area))].filter((a) => !(a in RANK))).toEqual([]);
  });

  it('no import goes from a lower layer to a higher one', () => {
    const upward = [...graph].flatMap(([from, tos]) => tos
      .filter((to) => RANK[area(to)] > RANK[area(from)])
      .map((to) => `${path.relative(SRC, from)} → ${path.relative(SRC, to)}`));
    expect(upward).toEqual([]);
  });

  it('no files import each other in a loop', () => {
    // Tarjan's strongly connected components: any component of more than one file is a loop.
    let index = 0;
    const order = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const loops: string[][] = [];
    const visit = (v: string) => {
      order.set(v, index);
      low.set(v, index++);
      stack.push(v);
      onStack.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!order.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) {
          low.set(v, Math.min(low.get(v)!, order.get(w)!));
        }
      }
      if (low.get(v) === order.get(v)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(path.relative(SRC, w));
        } while (w !== v);
        if (component.length > 1) loops.push(component.sort());
      }
    };
    for (const f of files) if (!order.has(f)) visit(f);
    expect(loops).toEqual([]);
  });

  it('no loop between folders of the same layer', () => {
    const edges = new Set<string>();
    for (const [from, tos] of graph) for (const to of tos) if (area(from) !== area(to)) edges.add(`${area(from)}→${area(to)}`);
    const both = [...edges].filter((e) => edges.has(e.split('→').reverse().join('→')));
    expect(both).toEqual([]);
  });

  // The engine and the training loop are where classes grow into everything; a file past
  // this size is a sign a piece of it wants its own file (as evaluator.ts, sampler.ts,
  // execution.ts did).
  it('no file in engine/ or tuning/ is over 450 lines', () => {
    const long = files
      .filter((f) => ['engine', 'tuning'].includes(area(f)))
      .map((f) => ({ file: path.relative(SRC, f), lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter(({ lines }) => lines > 450);
    expect(long).toEqual([]);
  });
});

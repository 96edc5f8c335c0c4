import fs from 'node:fs';
import path from 'node:path';

// The API's modules import each other one way: a cycle between files makes load order (and so which export is
// still undefined when a decorator runs) depend on who imports first. Type-only imports are erased and ignored.
const root = __dirname;
const IMPORT = /^(import|export)\s+(type\s+)?(\{([^}]*)\}|[\w*\s,{}]+)?\s*from\s+'(\.[^']+)'/gm;

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [p] : [];
  });
}

function resolve(from: string, spec: string): string | undefined {
  const p = path.resolve(path.dirname(from), spec);
  return [`${p}.ts`, path.join(p, 'index.ts')].find((c) => fs.existsSync(c));
}

/** Files each file imports at run time. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(root)) {
    const text = fs.readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      const typeOnly = Boolean(m[2]) || (m[4] !== undefined && m[4].split(',').every((s) => !s.trim() || /^type\s/.test(s.trim())));
      const target = resolve(file, m[5]);
      if (!typeOnly && target) targets.push(target);
    }
    graph.set(file, targets);
  }
  return graph;
}

function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): string[] | null => {
    if (state.get(f) === 'done') return null;
    if (state.get(f) === 'open') return [...stack.slice(stack.indexOf(f)), f];
    state.set(f, 'open');
    stack.push(f);
    for (const t of graph.get(f) ?? []) {
      const c = visit(t);
      if (c) return c;
    }
    stack.pop();
    state.set(f, 'done');
    return null;
  };
  for (const f of graph.keys()) {
    const c = visit(f);
    if (c) return c.map((x) => path.relative(root, x));
  }
  return null;
}

describe('apps/api import structure', () => {
  const graph = importGraph();

  it('reads the real source tree', () => {
    expect(graph.get(path.join(root, 'app.module.ts'))?.length).toBeGreaterThan(5);
  });

  it('has no import cycle between files', () => {
    expect(findCycle(graph)).toBeNull();
  });

  it('finds a cycle when there is one (the check itself)', () => {
    const a = path.join(root, 'a.ts');
    const b = path.join(root, 'b.ts');
    expect(findCycle(new Map([[a, [b]], [b, [a]]]))).toEqual(['a.ts', 'b.ts', 'a.ts']);
  });

  it('keeps devices/ below the modules that compose it (no devices -> simulations or models imports)', () => {
    const upward = [...graph].filter(([f]) => f.startsWith(path.join(root, 'devices') + path.sep)).flatMap(([f, ts]) =>
      ts.filter((t) => /^(simulations|models)[\\/]/.test(path.relative(root, t))).map((t) => `${path.relative(root, f)} -> ${path.relative(root, t)}`),
    );
    expect(upward).toEqual([]);
  });
});

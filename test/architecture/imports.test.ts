/**
 * The dependency rule, checked over the import graph of src/ (every `import`/`export … from` and
 * dynamic `import()` of a relative path, type-only imports included: they are design dependencies
 * too). Layers, inner first: core → runtime, scheduler → observability, repository → service →
 * gateway → protocol → composition root (server.ts) → cli. Tools beside the server (training,
 * oip-client, loadgen) use only what they are allowed below. Adding an edge means adding it here,
 * with the reason.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const SRC = resolve('src');

/** Module of a file: the longest matching path prefix under src/. Files at the root are their own. */
const MODULES = [
  'core',
  'errors.ts',
  'version.ts',
  'config.ts',
  'runtime',
  'steps',
  'scheduler',
  'observability',
  'repository',
  'service',
  'gateway',
  'protocol/http',
  'protocol',
  'server.ts',
  'cli',
  'training',
  'oip-client',
  'loadgen',
] as const;
type Module = (typeof MODULES)[number];

const LEAF: Module[] = ['core', 'errors.ts', 'version.ts'];
/** Which modules each module may import (besides itself). */
const ALLOWED: Record<Module, readonly Module[]> = {
  core: ['errors.ts'],
  'errors.ts': [],
  'version.ts': [],
  'config.ts': LEAF,
  runtime: LEAF,
  // Step packages implement runtime/pipeline's step interface.
  steps: [...LEAF, 'runtime'],
  scheduler: [...LEAF, 'runtime'],
  // Implements the scheduler's observer and the runtime's event interfaces.
  observability: [...LEAF, 'scheduler', 'runtime'],
  repository: [...LEAF, 'runtime', 'scheduler', 'observability'],
  service: [...LEAF, 'runtime', 'scheduler', 'observability', 'repository'],
  // Settings are read by the gateway's setup (which store, which limiter).
  gateway: [...LEAF, 'config.ts', 'service', 'observability', 'protocol/http'],
  // Shared by the /v2 transports and the /v1 routes: fastify error mapping, client-gone signals.
  'protocol/http': LEAF,
  protocol: [...LEAF, 'config.ts', 'service', 'gateway', 'observability', 'protocol/http'],
  'server.ts': MODULES.filter((m) => !['server.ts', 'cli', 'loadgen', 'training', 'oip-client'].includes(m)),
  cli: MODULES.filter((m) => m !== 'cli'),
  training: LEAF,
  // Clients encode and decode with the transports' codecs; they never see the service.
  'oip-client': [...LEAF, 'protocol'],
  loadgen: [...LEAF, 'oip-client', 'protocol', 'protocol/http'],
};
/** Sub-folders a module must not reach into from elsewhere (shared HTTP pieces live in protocol/http). */
const PRIVATE: Array<{ from: Module; to: string; why: string }> = [
  { from: 'gateway', to: 'protocol/rest', why: '/v1 must not reach into the /v2 transport' },
  { from: 'gateway', to: 'protocol/grpc', why: '/v1 must not reach into the gRPC transport' },
  { from: 'runtime', to: 'steps', why: 'the composition root registers step packages' },
];

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function moduleOf(file: string): Module {
  const rel = relative(SRC, file);
  const m = MODULES.find((x) => rel === x || rel.startsWith(`${x}/`));
  if (!m) throw new Error(`${rel} belongs to no module: add it to MODULES in this test`);
  return m;
}

/** Folder of a file for the cycle check; files at the root of src/ are nodes of their own. */
function folderOf(file: string): string {
  const rel = relative(SRC, file);
  return rel.includes('/') ? dirname(rel) : rel;
}

const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

function edges(): Array<{ from: string; to: string }> {
  const out: Array<{ from: string; to: string }> = [];
  for (const file of walk(SRC)) {
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      out.push({ from: file, to: resolve(dirname(file), m[1]!).replace(/\.js$/, '.ts') });
    }
  }
  return out;
}

/** Strongly connected components with more than one node (Tarjan). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) found.push(c.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

describe('dependency rule (src/)', () => {
  const all = edges();

  it('every import points inwards, as ALLOWED says', () => {
    const bad = new Set<string>();
    for (const e of all) {
      const a = moduleOf(e.from);
      const b = moduleOf(e.to);
      if (a !== b && !ALLOWED[a].includes(b)) {
        bad.add(`${relative(SRC, e.from)} -> ${relative(SRC, e.to)} (${a} may not import ${b})`);
      }
      const rel = relative(SRC, e.to);
      for (const p of PRIVATE) {
        if (a === p.from && rel.startsWith(`${p.to}/`)) {
          bad.add(`${relative(SRC, e.from)} -> ${rel}: ${p.why}`);
        }
      }
    }
    assert.deepEqual([...bad].sort(), []);
  });

  it('no import cycles between folders, nor between files', () => {
    const folders = new Map<string, Set<string>>();
    const files = new Map<string, Set<string>>();
    for (const e of all) {
      const a = folderOf(e.from);
      const b = folderOf(e.to);
      if (!files.has(e.from)) files.set(e.from, new Set());
      files.get(e.from)!.add(e.to);
      if (a === b) continue;
      if (!folders.has(a)) folders.set(a, new Set());
      folders.get(a)!.add(b);
    }
    assert.deepEqual(cycles(folders), []);
    assert.deepEqual(
      cycles(files).map((c) => c.map((f) => relative(SRC, f))),
      [],
    );
  });

  it('the checker sees the graph (a sanity floor, so a broken regex cannot pass vacuously)', () => {
    assert.ok(all.length > 300, `only ${all.length} imports found`);
    assert.ok(all.some((e) => moduleOf(e.from) === 'server.ts' && moduleOf(e.to) === 'service'));
  });
});

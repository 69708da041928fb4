/**
 * Type-checks the TypeScript examples as one program, with the project's compiler options, against
 * the project's sources: an import of `./dist/src/x.js` or `./sdk/index.js` is checked against
 * `src/x.ts` or `sdk/index.ts` (what dist/ is compiled from). A wrong field or argument in a doc
 * fails here even when the JavaScript happens to run.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

/** Rewrites relative import specifiers with `map` (the examples import from the repository root). */
export function rewriteImports(code: string, map: (spec: string) => string): string {
  return code.replace(
    /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.\.?\/[^'"]+)\2/g,
    (_m, pre: string, q: string, spec: string) => `${pre}${q}${map(spec)}${q}`,
  );
}

/** The source an import of the compiled tree was built from, as an absolute path. */
function sourceOf(root: string, spec: string): string {
  const inSource = resolve(root, spec.replace(/^\.\/dist\//, './'));
  return existsSync(inSource.replace(/\.js$/, '.ts')) ? inSource : resolve(root, spec);
}

/**
 * Writes each example to `<dir>/<name>.ts` and returns the type errors per name (empty = none).
 * `dir` must be an ES module scope (a package.json with "type": "module").
 */
export function typeErrors(
  root: string,
  dir: string,
  examples: ReadonlyMap<string, string>,
): Map<string, string[]> {
  const files = new Map<string, string>();
  for (const [name, code] of examples) {
    const file = join(dir, `${name}.ts`);
    writeFileSync(
      file,
      rewriteImports(code, (spec) => sourceOf(root, spec)),
    );
    files.set(file, name);
  }
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), (p) => ts.sys.readFile(p));
  const options = ts.parseJsonConfigFileContent(config.config, ts.sys, root).options;
  const program = ts.createProgram([...files.keys()], {
    ...options,
    noEmit: true,
    incremental: false,
    rootDir: undefined,
  });
  const out = new Map<string, string[]>([...examples.keys()].map((n) => [n, []]));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const name = d.file ? files.get(d.file.fileName) : undefined;
    if (d.file && name !== undefined) {
      const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
      out.get(name)?.push(`line ${line + 1}: ${text}`);
    } else {
      // An error outside the examples (in a source they import) is reported against every one.
      for (const list of out.values()) list.push(`${d.file?.fileName ?? 'program'}: ${text}`);
    }
  }
  return out;
}

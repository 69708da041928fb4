/**
 * Unknown fields in core Kubernetes objects, as the API server's strict field validation
 * (`kubectl apply --validate=strict`) reports them. kubernetes-models' schemas leave objects open,
 * so this check types each object against npm `kubernetes-types` (the API's Go types as TypeScript)
 * with the TypeScript compiler: an object literal with a property its type lacks is an error at
 * any depth. Only those excess-property errors count; value types are kubernetes-models' job (a
 * quantity may be a number in YAML though the type says string).
 */
import { createRequire } from 'node:module';
import ts from 'typescript';

const require = createRequire(import.meta.url);

/** TypeScript's "may only specify known properties" diagnostics (2353; 2561 adds "Did you mean"). */
const EXCESS_PROPERTY = new Set([2353, 2561]);

/** `apps/v1` → `kubernetes-types/apps/v1`; the core group `v1` → `kubernetes-types/core/v1`. */
function typesModule(apiVersion: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['core', apiVersion];
  return `kubernetes-types/${(group ?? 'core').split('.')[0]}/${version}`;
}

/**
 * The unknown fields of each object, as `Kind/name: 'field' …` lines; objects whose apiVersion
 * kubernetes-types does not have (custom resources) are skipped: their CRD schemas are closed.
 */
export function unknownCoreFields(objects: readonly unknown[]): string[] {
  const lines: string[] = [];
  const labels: string[] = [];
  objects.forEach((o, i) => {
    const { apiVersion, kind, metadata } = o as {
      apiVersion: string;
      kind: string;
      metadata?: { name?: string };
    };
    const mod = typesModule(apiVersion);
    try {
      require.resolve(`${mod}.d.ts`);
    } catch {
      return;
    }
    lines.push(`import type { ${kind} as T${i} } from '${mod}';`);
    lines.push(`export const o${i}: T${i} = ${JSON.stringify(o)};`);
    labels[i] = `${kind}/${metadata?.name ?? '?'}`;
  });
  if (lines.length === 0) return [];
  const file = 'k8s-objects.ts';
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  const source = lines.join('\n');
  host.getSourceFile = (name, lang, ...rest) =>
    name === file ? ts.createSourceFile(name, source, lang) : read(name, lang, ...rest);
  const program = ts.createProgram([file], options, host);
  const out: string[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    if (d.file?.fileName !== file) continue;
    if (!EXCESS_PROPERTY.has(d.code)) {
      // A missing type (unknown kind for its group) would hide every error: say so.
      if (d.code === 2305 || d.code === 2307) out.push(ts.flattenDiagnosticMessageText(d.messageText, ' '));
      continue;
    }
    const line = d.file.getLineAndCharacterOfPosition(d.start ?? 0).line;
    const index = Number(/export const o(\d+)/.exec(source.split('\n')[line] ?? '')?.[1]);
    out.push(`${labels[index] ?? '?'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  }
  return out;
}

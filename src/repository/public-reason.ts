/**
 * Load failures as clients may read them. A reason reaches anyone who can ask (`/v2/repository/index`,
 * model metadata and readiness errors, gRPC RepositoryIndex), and the texts it is made of (ONNX
 * Runtime's, Node's file system errors) carry absolute paths: the server's layout is none of a
 * client's business. Paths inside the model repository are shown relative to it (as the config and
 * Triton name them), files of npm packages as `npm:<package>/<path>` (as config.json names them),
 * ONNX Runtime's source locations are dropped and any other absolute path keeps its file name only.
 * The full text stays in the server log.
 */
import { sep } from 'node:path';

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A path segment: no whitespace, quotes, colons or commas (which end paths in messages). */
const SEGMENT = `[^\\s'"\`:,/]+`;
const NODE_MODULES = new RegExp(`(?:/${SEGMENT})*/node_modules/((?:${SEGMENT}/)*${SEGMENT})`, 'g');
const ORT_SOURCE = /\/onnxruntime_src\/\S+?:\d+\s*/g;
/** An absolute path not part of a URL (`http://…`) or of a relative one. */
const ABSOLUTE = new RegExp(`(?<![\\w.:/-])(?:/${SEGMENT})+/(${SEGMENT})`, 'g');

export function publicReason(text: string, root: string): string {
  const base = root.endsWith(sep) ? root.slice(0, -1) : root;
  return text
    .replace(new RegExp(`${escape(base + sep)}`, 'g'), '')
    .replace(new RegExp(`${escape(base)}(?![\\w.-])`, 'g'), '.')
    .replace(NODE_MODULES, 'npm:$1')
    .replace(ORT_SOURCE, '')
    .replace(ABSOLUTE, '$1');
}

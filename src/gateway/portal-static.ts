/**
 * Serves the portal's built files (dist/portal, built by Vite from portal/ in `npm run build`):
 * GET / is index.html (no-cache: it names the current assets), GET /assets/{file} the
 * content-hashed assets (immutable for a year: a new build has new names). Every page carries a
 * strict Content-Security-Policy: scripts, styles and connections only from this origin, no inline
 * script, no framing. Files are read once at startup; only those names are served.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** dist/src/gateway/ → dist/portal/ */
const PORTAL_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'portal');

/**
 * `img-src blob:` shows the image a user picked for OCR before it is uploaded; `data:` is not
 * needed. `style-src 'self'`: the pages set styles through the CSSOM (allowed), never inline.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

function secured(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

export function registerPortal(app: FastifyInstance, dir = PORTAL_DIR): void {
  const indexPath = join(dir, 'index.html');
  const index = existsSync(indexPath) ? readFileSync(indexPath) : undefined;
  const assets = new Map<string, { body: Buffer; type: string }>();
  const assetDir = join(dir, 'assets');
  if (existsSync(assetDir)) {
    for (const f of readdirSync(assetDir)) {
      const type = TYPES[extname(f)];
      if (type) assets.set(f, { body: readFileSync(join(assetDir, f)), type });
    }
  }
  app.get('/', async (_req, reply) => {
    if (!index) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('the portal is not built: run npm run build (it builds portal/ into dist/portal)\n');
    }
    return secured(reply).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(index);
  });
  app.get('/assets/:file', async (req, reply) => {
    const a = assets.get((req.params as { file: string }).file);
    if (!a) return reply.code(404).type('text/plain; charset=utf-8').send('not found\n');
    return secured(reply)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .type(a.type)
      .send(a.body);
  });
}

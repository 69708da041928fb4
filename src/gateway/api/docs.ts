/**
 * GET /openapi.json and GET /docs (Swagger UI from the swagger-ui-dist package, served from this
 * server: no CDN, so docs work offline and under a strict network policy). Outside the gateway:
 * reading the docs needs no key; "Try it out" sends the key the user enters under Authorize.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { InferenceService } from '../../service/inference-service.js';
import { buildOpenApi } from './openapi.js';

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>inferd API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: true,
  // The default badge loads from validator.swagger.io: no outside requests from our pages.
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout'
});
`;

export async function registerDocs(app: FastifyInstance, service: InferenceService): Promise<void> {
  const dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const files = new Map<string, Buffer>();
  for (const f of Object.keys(ASSETS)) files.set(f, readFileSync(join(dir, f)));

  app.get('/openapi.json', async (req, reply) => {
    const url = `${req.protocol}://${req.host}`;
    return reply.type('application/json').send(JSON.stringify(await buildOpenApi(service, url)));
  });
  app.get('/docs', async (_req, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
  app.get('/docs/init.js', async (_req, reply) =>
    reply.type('application/javascript; charset=utf-8').send(INIT),
  );
  app.get('/docs/assets/:file', async (req, reply) => {
    const f = (req.params as { file: string }).file;
    const body = files.get(f);
    if (!body) return reply.code(404).type('text/plain').send('not found');
    return reply.type(ASSETS[f]!).header('cache-control', 'public, max-age=86400').send(body);
  });
}

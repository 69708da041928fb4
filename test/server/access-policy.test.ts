/**
 * The access policy as a table, through the real server (issue 23, finding 2): every REST route
 * fastify knows (plus the raw infer routes) and every gRPC method of the loaded service definitions
 * has an entry, the table names nothing the server does not serve, and with auth on every route or
 * method that is not open is refused without credentials.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  GRPC_POLICY,
  grpcCategory,
  RAW_ROUTES,
  REST_POLICY,
  restCategory,
  credentialFor,
} from '../../src/gateway/access-policy.js';
import { loadProtos } from '../../src/protocol/grpc/proto-files.js';
import { registeredRoutes } from '../../src/protocol/rest/app.js';
import type { RunningServer } from '../../src/server.js';
import { makeApiRepository } from '../api/fixtures.js';
import { startTestServer } from '../helpers/server.js';
import { openStream, rawCall } from '../protocol/grpc-helpers.js';

const ON = { auth: 'on', v2Auth: 'keys' } as const;

/** A concrete path for a route pattern: parameters get values of things that exist. */
function concrete(url: string): string {
  return url
    .replace(':model', 'add')
    .replace(':name', 'spam')
    .replace(':version', '1')
    .replace(':id', 'key_nope')
    .replace(':file', 'swagger-ui.css');
}

describe('access policy table (auth on, v2 keys on)', () => {
  let repo: string;
  let server: RunningServer;
  before(async () => {
    repo = makeApiRepository();
    server = await startTestServer(repo, { v2Auth: 'keys' });
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const restRoutes = (): Array<{ method: string; url: string }> => [
    ...registeredRoutes(server.app),
    ...RAW_ROUTES.map((r) => {
      const [method, url] = r.split(' ') as [string, string];
      return { method, url };
    }),
  ];

  it('every REST route has an entry, and every entry is a served route', () => {
    const routes = restRoutes();
    assert.ok(routes.length >= 30, `fastify reported ${routes.length} routes`);
    for (const r of routes) {
      assert.ok(restCategory(r.method, r.url), `${r.method} ${r.url} has no policy entry`);
    }
    const served = new Set(routes.map((r) => `${r.method === 'HEAD' ? 'GET' : r.method} ${r.url}`));
    for (const entry of Object.keys(REST_POLICY)) assert.ok(served.has(entry), `stale entry ${entry}`);
  });

  it('every REST route that is not open is refused without credentials', async () => {
    const refused: string[] = [];
    for (const r of restRoutes()) {
      const need = credentialFor(restCategory(r.method, r.url)!, ON);
      const path = concrete(r.url);
      const res = await fetch(server.httpUrl + path, {
        method: r.method,
        headers: r.method === 'POST' ? { 'content-type': 'application/json' } : {},
        body: r.method === 'POST' ? '{}' : undefined,
      });
      const text = await res.text();
      if (need === 'none') {
        assert.ok(![401, 403].includes(res.status), `${r.method} ${path} is open, got ${res.status}`);
        continue;
      }
      assert.equal(res.status, 401, `${r.method} ${path}: ${text}`);
      if (r.method !== 'HEAD') {
        assert.equal((JSON.parse(text) as { code: string }).code, 'unauthenticated', `${r.method} ${path}`);
      }
      refused.push(`${r.method} ${r.url}`);
    }
    for (const must of [
      'POST /v2/repository/models/:model/unload',
      'POST /v2/repository/models/:model/load',
      'POST /v2/repository/index',
      'GET /v2/models/stats',
      'POST /v2/models/:model/infer',
      'POST /v2/models/:model/versions/:version/infer',
      'POST /v1/models/:name/predict',
      'POST /admin/keys',
    ]) {
      assert.ok(refused.includes(must), `${must} was refused`);
    }
    // The unload above was refused: the model still serves.
    assert.equal((await fetch(server.httpUrl + '/v2/models/add/ready')).status, 200);
  });

  it('every gRPC method has an entry, and every one that is not open is refused without credentials', async () => {
    const protos = loadProtos();
    const services: Array<[grpc.ServiceClientConstructor, string]> = [
      [protos.inference, 'inference'],
      [protos.health, 'health'],
      ...protos.reflection.map((r): [grpc.ServiceClientConstructor, string] => [r, 'reflection']),
    ];
    const paths: string[] = [];
    for (const [Svc] of services) {
      const stub = new Svc(server.grpcUrl, grpc.credentials.createInsecure());
      try {
        for (const [name, m] of Object.entries(Svc.service)) {
          paths.push(m.path);
          const category = grpcCategory(m.path);
          assert.ok(category, `${m.path} has no policy entry`);
          if (credentialFor(category, ON) === 'none') continue;
          if (!m.requestStream && !m.responseStream) {
            const { err } = await rawCall(stub, name, { name: 'add', model_name: 'add' });
            assert.equal(err?.code, grpc.status.UNAUTHENTICATED, m.path);
            assert.equal(err?.metadata.get('inferd-error-code')[0], 'unauthenticated', m.path);
          } else {
            // A stream answers each message: the refusal comes as the message's error.
            const call = openStream<grpc.ClientDuplexStream<unknown, Record<string, unknown>>>(stub, name);
            const answers: Array<Record<string, unknown>> = [];
            await new Promise<void>((resolve, reject) => {
              call.on('data', (a: Record<string, unknown>) => answers.push(a));
              call.on('end', resolve);
              call.on('error', reject);
              call.write({ model_name: 'add', id: 'no-key', inputs: [] });
              call.end();
            });
            assert.equal(answers.length, 1, m.path);
            const res = answers[0]!.infer_response as {
              parameters: Record<string, { string_param: string }>;
            };
            assert.equal(res.parameters['inferd-error-code']!.string_param, 'unauthenticated', m.path);
          }
        }
      } finally {
        stub.close();
      }
    }
    assert.deepEqual(
      paths.sort(),
      Object.keys(GRPC_POLICY).sort(),
      'the table names exactly the served methods',
    );
  });
});

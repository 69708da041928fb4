/**
 * The dev overlay's Deployment (deploy/kubernetes/overlays/dev, rendered by test/deploy/kustomize.ts)
 * under `podman kube play`, the nearest this machine gets to a cluster (`npm run test:image`, after
 * container.image-test.ts has built the image): it starts with the manifest's security context,
 * volumes and environment, answers the README's spam and OCR requests, and `podman kube down`
 * stops it.
 *
 * One change to the rendered Deployment, and why: the pod uses the host's network (this sandbox
 * has no working port forwarding into podman's bridge network), so its two ports move to free
 * ports of this machine: containerPort and the server's INFERD_HTTP_PORT / INFERD_GRPC_PORT
 * together (the probes name the port, `http`, and follow). Everything else is as rendered.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IPodSpec } from 'kubernetes-models/v1';
import { stringify } from 'yaml';
import { kustomize } from '../deploy/kustomize.js';
import { freePort } from '../helpers/spawn.js';
import { levenshtein } from '../ocr/helpers/render.js';
import { run } from './podman.js';
import { OCR_LINES, ocr, ocrImage, spam } from './readme-requests.js';

/** The image container.image-test.ts builds. */
const IMAGE = process.env.INFERD_IMAGE_TAG ?? 'localhost/inferd:image-test';

type Deployment = IDeployment & { metadata: { name: string }; spec: { template: { spec: IPodSpec } } };

const dir = mkdtempSync(join(tmpdir(), 'inferd-kube-play-'));
const file = join(dir, 'deployment.yaml');
let played = false;

/** The dev Deployment as rendered, on free host ports (see the header). */
async function devDeployment(): Promise<{ deployment: Deployment; http: number; grpc: number }> {
  const objs = kustomize('deploy/kubernetes/overlays/dev');
  const deployment = objs.find((o) => o.kind === 'Deployment') as unknown as Deployment;
  const c = deployment.spec.template.spec.containers[0]!;
  const http = await freePort();
  const grpc = await freePort();
  for (const p of c.ports!) p.containerPort = p.name === 'http' ? http : grpc;
  c.env!.push(
    { name: 'INFERD_HTTP_PORT', value: String(http) },
    { name: 'INFERD_GRPC_PORT', value: String(grpc) },
  );
  return { deployment, http, grpc };
}

/** podman's name for the container of a played Deployment: `<deployment>-pod-<container>`. */
async function containerOf(deployment: Deployment): Promise<string> {
  const r = await run('podman', [
    'ps',
    '--all',
    '--format',
    '{{.Names}}',
    '--filter',
    `pod=${deployment.metadata.name}-pod`,
  ]);
  const name = r.stdout
    .split('\n')
    .map((l) => l.trim())
    .find((n) => n.endsWith(`-${deployment.spec.template.spec.containers[0]!.name}`));
  assert.ok(name, `no container in pod ${deployment.metadata.name}-pod: ${r.stdout} ${r.stderr}`);
  return name;
}

async function waitReady(url: string, container: string, timeoutMs = 180_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const status = await fetch(`${url}/v2/health/ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  const logs = await run('podman', ['logs', container]);
  assert.fail(`not ready within ${timeoutMs} ms:\n${logs.stdout}\n${logs.stderr}`);
}

describe('podman kube play: the dev overlay', () => {
  before(async () => {
    const exists = await run('podman', ['image', 'exists', IMAGE]);
    assert.equal(
      exists.code,
      0,
      `${IMAGE} not built: container.image-test.ts builds it (npm run test:image)`,
    );
  });

  after(async () => {
    if (played) await run('podman', ['kube', 'down', file], 120_000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the rendered Deployment read-only as uid 1000 and answers the README requests; kube down stops it', async () => {
    const { deployment, http } = await devDeployment();
    const image = deployment.spec.template.spec.containers[0]!.image!;
    // The overlay's image name, given to the image this suite built (podman resolves the short
    // name `inferd:dev` to localhost/inferd:dev).
    const tag = await run('podman', ['tag', IMAGE, `localhost/${image}`]);
    assert.equal(tag.code, 0, tag.stderr);
    writeFileSync(file, stringify(deployment));

    const play = await run('podman', ['kube', 'play', '--replace', '--network', 'host', file], 300_000);
    played = true;
    assert.equal(play.code, 0, `podman kube play:\n${play.stdout}\n${play.stderr}`);
    const container = await containerOf(deployment);
    const url = `http://127.0.0.1:${http}`;
    await waitReady(url, container);

    // What the manifest asks for, as podman applied it.
    const exec = (...args: string[]) => run('podman', ['exec', container, ...args]);
    assert.equal((await exec('id', '-u')).stdout.trim(), '1000');
    const inspect = await run('podman', ['inspect', '--format', '{{.HostConfig.ReadonlyRootfs}}', container]);
    assert.equal(inspect.stdout.trim(), 'true');
    const appWrite = await exec('sh', '-c', 'echo x > /app/x');
    assert.notEqual(appWrite.code, 0, '/app is writable');
    for (const path of ['/tmp', '/var/lib/inferd']) {
      const w = await exec('sh', '-c', `echo x > ${path}/x && rm ${path}/x`);
      assert.equal(w.code, 0, `${path} not writable: ${w.stderr}`);
    }
    const capEff = await exec('sh', '-c', "grep '^CapEff' /proc/1/status");
    assert.match(capEff.stdout, /CapEff:\s+0+$/m, 'every capability dropped');
    const noNewPrivs = await exec('sh', '-c', "grep '^NoNewPrivs' /proc/1/status");
    assert.match(noNewPrivs.stdout, /NoNewPrivs:\s+1/);

    // The README's examples, auth off as the dev overlay sets it: no key.
    const s = await spam(url);
    assert.equal(s.status, 200, s.body);
    assert.deepEqual(s.labels, ['spam', 'ham']);
    const o = await ocr(url, undefined, await ocrImage(OCR_LINES, 960));
    assert.equal(o.status, 200, o.body);
    assert.ok(levenshtein(OCR_LINES.join('\n'), o.text) <= 2, o.text);

    const down = await run('podman', ['kube', 'down', file], 120_000);
    assert.equal(down.code, 0, down.stderr);
    played = false;
    const gone = await run('podman', ['container', 'exists', container]);
    assert.notEqual(gone.code, 0, 'the container is removed');
    const after = await fetch(`${url}/v2/health/live`).then(
      (r) => r.status,
      () => 0,
    );
    assert.equal(after, 0, 'nothing listens any more');
  });
});

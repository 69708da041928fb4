/**
 * The dev overlay's Deployment (deploy/kubernetes/overlays/dev, rendered by test/deploy/kustomize.ts)
 * under `podman kube play`, the nearest this machine gets to a cluster (`npm run test:image`, after
 * container.image-test.ts has built the image): it starts with the manifest's security context,
 * volumes and environment, answers the README's spam and OCR requests, and `podman kube down`
 * stops it.
 *
 * One addition to the rendered Deployment, and why: a hostPort (a free port of this machine) on
 * each container port, so that the test can reach the pod, as `kubectl port-forward` would. The pod
 * runs in its own network namespace (slirp4netns: podman's bridge networking has no working port
 * forwarding in this sandbox, and host networking refuses port mappings); the server listens on the
 * manifest's 8080 and 8081 inside it. Everything else is as rendered.
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

/** The dev Deployment as rendered, with a free host port on each container port (see the header). */
async function devDeployment(): Promise<{ deployment: Deployment; http: number }> {
  const objs = kustomize('deploy/kubernetes/overlays/dev');
  const deployment = objs.find((o) => o.kind === 'Deployment') as unknown as Deployment;
  const ports = deployment.spec.template.spec.containers[0]!.ports!;
  for (const p of ports) p.hostPort = await freePort();
  return { deployment, http: ports.find((p) => p.name === 'http')!.hostPort! };
}

/** podman's name for the container of a played Deployment: `<deployment>-pod-0-<container>`. */
async function containerOf(deployment: Deployment): Promise<string> {
  const r = await run('podman', [
    'ps',
    '--all',
    '--format',
    '{{.Names}}',
    '--filter',
    `pod=${deployment.metadata.name}-pod-0`,
  ]);
  const name = r.stdout
    .split('\n')
    .map((l) => l.trim())
    .find((n) => n.endsWith(`-${deployment.spec.template.spec.containers[0]!.name}`));
  assert.ok(name, `no container in pod ${deployment.metadata.name}-pod-0: ${r.stdout} ${r.stderr}`);
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

  it('runs the rendered Deployment read-only as uid 1000, answers the README requests, drains on SIGTERM; kube down removes it', async () => {
    const { deployment, http } = await devDeployment();
    const image = deployment.spec.template.spec.containers[0]!.image!;
    // The overlay's image name, given to the image this suite built (podman resolves the short
    // name `inferd:dev` to localhost/inferd:dev).
    const tag = await run('podman', ['tag', IMAGE, `localhost/${image}`]);
    assert.equal(tag.code, 0, tag.stderr);
    writeFileSync(file, stringify(deployment));

    const play = await run(
      'podman',
      ['kube', 'play', '--replace', '--network', 'slirp4netns', file],
      300_000,
    );
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
    const status = (await exec('cat', '/proc/1/status')).stdout;
    assert.match(status, /^NoNewPrivs:\s+1$/m, 'allowPrivilegeEscalation: false');
    assert.match(status, /^Seccomp:\s+2$/m, 'a seccomp filter (RuntimeDefault)');

    // podman does not run preStop; its command must exist in the image for the kubelet to.
    const preStop = deployment.spec.template.spec.containers[0]!.lifecycle!.preStop!.exec!.command!;
    const which = await exec('sh', '-c', `command -v ${preStop[0]}`);
    assert.equal(which.code, 0, `preStop's ${preStop[0]} is not in the image`);

    // The README's examples, auth off as the dev overlay sets it: no key.
    const s = await spam(url);
    assert.equal(s.status, 200, s.body);
    assert.deepEqual(s.labels, ['spam', 'ham']);
    const o = await ocr(url, undefined, await ocrImage(OCR_LINES, 960));
    assert.equal(o.status, 200, o.body);
    assert.ok(levenshtein(OCR_LINES.join('\n'), o.text) <= 2, o.text);

    // The kubelet's stop: SIGTERM, SIGKILL after terminationGracePeriodSeconds. podman 4.3's
    // `kube down` kills at once (exit 137), so the pod is stopped the kubelet's way first.
    const grace = deployment.spec.template.spec.terminationGracePeriodSeconds!;
    const stop = await run(
      'podman',
      ['pod', 'stop', '--time', String(grace), `${deployment.metadata.name}-pod-0`],
      (grace + 30) * 1000,
    );
    assert.equal(stop.code, 0, stop.stderr);
    const exitCode = await run('podman', ['inspect', '--format', '{{.State.ExitCode}}', container]);
    assert.equal(exitCode.stdout.trim(), '0', 'inferd drained and exited 0 on SIGTERM');
    const log = (await run('podman', ['logs', container])).stdout;
    assert.match(log, /"signal":"SIGTERM"/);
    assert.match(log, /"msg":"inferd stopped"/);

    const down = await run('podman', ['kube', 'down', file], 120_000);
    assert.equal(down.code, 0, down.stderr);
    played = false;
    const gone = await run('podman', ['container', 'exists', container]);
    assert.notEqual(gone.code, 0, 'the container is removed');
    const afterDown = await fetch(`${url}/v2/health/live`).then(
      (r) => r.status,
      () => 0,
    );
    assert.equal(afterDown, 0, 'nothing listens any more');
  });
});

/**
 * The container image, end to end with podman (`npm run test:image`; not part of `npm test`):
 * builds the Dockerfile, runs the image with a read-only root filesystem and a non-default PORT,
 * answers one spam and one OCR request (the README's), checks the user and the filesystem, stops
 * it with SIGTERM while an OCR request is in flight, and starts it the other two documented ways
 * (`serve`, `serve --model-repository …`). Sizes, build time, cold start and idle RSS go to
 * bench/results/image.md.
 *
 * Needs podman and the local base image (`/work/shared/tools/container-base.sh 22`, or a registry).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../helpers/spawn.js';
import { levenshtein } from '../ocr/helpers/render.js';
import { Container, imageSize, run } from './podman.js';
import { OCR_LINES, ocr, ocrImage, spam } from './readme-requests.js';

const IMAGE = process.env.INFERD_IMAGE_TAG ?? 'localhost/inferd:image-test';
const BASE = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync('Dockerfile', 'utf8'))![1];
const PKG_VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const git = (...args: string[]): string => {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
};
const REVISION = git('rev-parse', 'HEAD') || 'unknown';
const SOURCE = git('remote', 'get-url', 'origin');
/** The budget: the image adds at most this much to its base. */
const BUDGET_BYTES = 150 * 1000 * 1000;
/** Cloud Run (and `docker stop`) send SIGKILL this long after SIGTERM. */
const GRACE_S = 10;

const m: {
  buildS?: number;
  cachedSteps?: string;
  base?: number;
  total?: number;
  coldStarts: { how: string; firstLogS: number; readyS: number; inferdReadyMs: number }[];
  node?: string;
  rssReadyKiB?: number;
  rssIdleKiB?: number;
  hwmKiB?: number;
  ocrS?: number;
  drainS?: number;
} = { coldStarts: [] };
const containers: Container[] = [];
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** Kernel's view of PID 1 (node) in the container: VmRSS and VmHWM in KiB. */
async function rss(c: Container): Promise<{ rss: number; hwm: number }> {
  const r = await c.exec(['cat', '/proc/1/status']);
  assert.equal(r.code, 0, r.stderr);
  const kib = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(r.stdout)![1]);
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** The documented read-only run: only /tmp and the data directory are writable (tmpfs here). */
function runArgs(port: number, grpcPort: number, env: Record<string, string> = {}): string[] {
  return [
    '--network=host',
    '--read-only',
    // podman adds tmpfs on /tmp, /var/tmp and /run under --read-only by default; docker does not.
    // Off, so that exactly the documented paths are writable.
    '--read-only-tmpfs=false',
    '--tmpfs',
    '/tmp:rw,nosuid,nodev,size=256m',
    '--tmpfs',
    // U: owned by the container's user (podman; docker: a named volume, see docs/deploy/container.md).
    '/var/lib/inferd:rw,nosuid,nodev,size=64m,U',
    '-e',
    `INFERD_GRPC_PORT=${grpcPort}`,
    ...Object.entries({ PORT: String(port), ...env }).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
  ];
}

/** inferd's own readyMs; its log line follows readiness by a moment (models.index() in between). */
async function inferdReadyMs(c: Container): Promise<number> {
  for (let i = 0; i < 250; i++) {
    const line = c.logLines().find((l) => l.msg === 'inferd ready');
    if (line) return line.readyMs as number;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`no 'inferd ready' log line:\n${c.stdout}`);
}

/**
 * Starts the image the given way, waits for readiness, stops it with SIGTERM; exit code 0.
 * `port` = where the server must answer (a flag may move it away from $PORT).
 */
async function startStop(how: string, args: (port: number) => string[]): Promise<void> {
  const port = await freePort();
  const envPort = await freePort();
  const c = new Container(
    `inferd-image-test-${process.pid}-${containers.length}`,
    runArgs(args(port).includes('--http-port') ? envPort : port, await freePort()),
    IMAGE,
    args(port),
  );
  containers.push(c);
  const readyS = (await c.waitReady(`http://127.0.0.1:${port}/v2/health/ready`)) / 1000;
  m.coldStarts.push({
    how,
    firstLogS: c.firstOutputMs! / 1000,
    readyS,
    inferdReadyMs: await inferdReadyMs(c),
  });
  const stop = await run('podman', ['stop', '--time', String(GRACE_S), c.name], 30_000);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(await c.exit, 0, c.stderr);
}

describe('container image', () => {
  before(async () => {
    const base = await run('podman', ['image', 'exists', BASE]);
    assert.equal(
      base.code,
      0,
      `base image ${BASE} not found: run /work/shared/tools/container-base.sh 22 (or pull it from a registry)`,
    );
  });

  after(async () => {
    for (const c of containers) await c.remove();
  });

  it('builds with podman from the Dockerfile, with OCI labels, within the size budget', async () => {
    const t0 = performance.now();
    const b = await run(
      'podman',
      [
        'build',
        '--pull=never',
        // INFERD_IMAGE_NO_CACHE=1: measure a build with podman's layer cache cold.
        ...(process.env.INFERD_IMAGE_NO_CACHE === '1' ? ['--no-cache'] : []),
        '--network=host',
        '-t',
        IMAGE,
        '--build-arg',
        `VERSION=${PKG_VERSION}`,
        '--build-arg',
        `REVISION=${REVISION}`,
        ...(SOURCE ? ['--build-arg', `SOURCE=${SOURCE}`] : []),
        '.',
      ],
      3_600_000,
    );
    m.buildS = (performance.now() - t0) / 1000;
    assert.equal(b.code, 0, `podman build failed:\n${(b.stdout + b.stderr).slice(-6000)}`);
    // podman prints `[1/2] STEP 5/13: …` per step and `--> Using cache …` when a layer is reused.
    const steps = (b.stdout.match(/STEP \d+\/\d+:/g) ?? []).length;
    const cached = (b.stdout.match(/--> Using cache/g) ?? []).length;
    m.cachedSteps = `${cached} of ${steps}`;

    const labels = await run('podman', ['image', 'inspect', '--format', '{{json .Labels}}', IMAGE]);
    const l = JSON.parse(labels.stdout) as Record<string, string>;
    assert.equal(l['org.opencontainers.image.version'], PKG_VERSION);
    assert.equal(l['org.opencontainers.image.revision'], REVISION);
    assert.ok('org.opencontainers.image.source' in l);

    m.base = await imageSize(BASE);
    m.total = await imageSize(IMAGE);
    assert.ok(
      m.total - m.base <= BUDGET_BYTES,
      `the image adds ${mb(m.total - m.base)} to its base; the budget is ${mb(BUDGET_BYTES)}`,
    );
  });

  it('runs read-only as non-root on $PORT, answers spam and OCR, logs JSON, drains on SIGTERM', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // No arguments: the image's default command, as Cloud Run and `docker run IMAGE` start it.
    const c = new Container(
      `inferd-image-test-${process.pid}-main`,
      runArgs(port, await freePort()),
      IMAGE,
      [],
    );
    containers.push(c);
    const readyS = (await c.waitReady(`${url}/v2/health/ready`)) / 1000;
    m.coldStarts.push({
      how: 'no arguments, $PORT',
      firstLogS: c.firstOutputMs! / 1000,
      readyS,
      inferdReadyMs: await inferdReadyMs(c),
    });
    m.node = (await c.exec(['node', '--version'])).stdout.trim();
    m.rssReadyKiB = (await rss(c)).rss;

    // The portal is in the image: / serves its page under the strict CSP, and its hashed assets.
    const portal = await fetch(`${url}/`);
    assert.equal(portal.status, 200);
    assert.match(portal.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const html = await portal.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset, 'the page loads a hashed script');
    const script = await fetch(`${url}${asset}`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('cache-control') ?? '', /immutable/);
    await script.arrayBuffer();

    // Non-root, read-only root filesystem, writable only where documented.
    assert.equal((await c.exec(['id', '-u'])).stdout.trim(), '1000');
    const status = await c.exec(['cat', '/proc/1/status']);
    assert.match(status.stdout, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m, 'PID 1 (node) runs as uid 1000');
    // Node's own flags (the ENTRYPOINT's --max-semi-space-size) come before the script.
    assert.match(
      (await c.exec(['cat', '/proc/1/cmdline'])).stdout,
      /^node\0(--[^\0]+\0)*\/app\/bin\/inferd\.js\0serve\0/,
    );
    for (const path of ['/app/x', '/app/models/x', '/etc/x', '/home/node/x', '/var/tmp/x']) {
      const w = await c.exec(['sh', '-c', `echo x > ${path}`]);
      assert.notEqual(w.code, 0, `${path} is writable`);
      assert.match(w.stderr, /Read-only file system|Permission denied/);
    }
    for (const path of ['/tmp/x', '/var/lib/inferd/x']) {
      assert.equal(
        (await c.exec(['sh', '-c', `echo x > ${path} && rm ${path}`])).code,
        0,
        `${path} not writable`,
      );
    }
    const inspect = await run('podman', ['inspect', '--format', '{{.HostConfig.ReadonlyRootfs}}', c.name]);
    assert.equal(inspect.stdout.trim(), 'true');

    // Auth is on by default: a key from the CLI in the same image, stored in the data directory.
    const created = await c.exec([
      'node',
      '/app/bin/inferd.js',
      'keys',
      'create',
      '--name',
      'image-test',
      '--plan',
      'pro',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const key = created.stdout.trim();
    assert.match(key, /^ik_live_/);

    const spamRes = await spam(url, key);
    assert.equal(spamRes.status, 200, spamRes.body);
    assert.deepEqual(spamRes.labels, ['spam', 'ham']);

    const t0 = performance.now();
    const small = await ocr(url, key, await ocrImage(OCR_LINES, 960));
    m.ocrS = (performance.now() - t0) / 1000;
    assert.equal(small.status, 200, small.body);
    assert.ok(levenshtein(OCR_LINES.join('\n'), small.text) <= 2, small.text);

    await new Promise((r) => setTimeout(r, 5000));
    ({ rss: m.rssIdleKiB, hwm: m.hwmKiB } = await rss(c));

    // SIGTERM while an OCR request is in flight: it must finish 200 and the container exit 0
    // within the grace period. In flight = the scheduler has it (metrics). Four lines: about
    // twice the README request; a 24-line page took 27-32 s on 2 busy cores, beyond the 8 s drain.
    const page = Array.from({ length: 4 }, (_, i) => `Line ${i + 1} of the page: ${OCR_LINES[i % 2]}`);
    const png = await ocrImage(page, 960);
    const inFlight = ocr(url, key, png);
    let pending = false;
    for (let i = 0; i < 500 && !pending; i++) {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      pending = /^inferd_pending_requests\{[^}]*\} [1-9]/m.test(metrics);
      if (!pending) await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(pending, 'the OCR request never showed up as pending');
    const s0 = performance.now();
    const stop = run('podman', ['stop', '--time', String(GRACE_S), c.name], 30_000);
    const done = await inFlight.catch((err: unknown) => {
      throw new Error(`the in-flight request failed (${String(err)}):\n${c.stdout}`);
    });
    assert.equal(done.status, 200, done.body);
    assert.ok(levenshtein(page.join('\n'), done.text) <= 10, done.text);
    assert.equal((await stop).code, 0);
    assert.equal(await c.exit, 0, `exit code (137 = SIGKILL after ${GRACE_S} s):\n${c.stderr}`);
    m.drainS = (performance.now() - s0) / 1000;
    assert.ok(m.drainS < GRACE_S, `took ${m.drainS} s to exit after SIGTERM`);

    // The log: JSON lines on stdout, the drain announced, the stop recorded.
    const log = c.logLines();
    assert.ok(log.some((l) => l.msg === 'inferd ready'));
    assert.ok(log.some((l) => l.signal === 'SIGTERM'));
    assert.ok(log.some((l) => l.msg === 'inferd stopped'));
    assert.equal(c.stderr.trim(), '', 'nothing but the JSON log is written');
  });

  it("starts the other documented ways: `serve` (SageMaker's) and `serve --model-repository …`", async () => {
    await startStop('serve', () => ['serve']);
    // The flag wins over $PORT (set to another port here).
    await startStop('serve --model-repository /app/models --http-port N', (port) => [
      'serve',
      '--model-repository',
      '/app/models',
      '--http-port',
      String(port),
    ]);
    writeResults();
  });
});

function writeResults(): void {
  const added = m.total! - m.base!;
  const cpu = cpus();
  const podman = execFileSync('podman', ['--version'], { encoding: 'utf8' }).trim();
  const starts = m.coldStarts
    .map(
      (s) =>
        `| \`${s.how}\` | ${s.firstLogS.toFixed(2)} s | ${s.readyS.toFixed(2)} s | ${(s.inferdReadyMs / 1000).toFixed(2)} s |`,
    )
    .join('\n');
  const text = `# Container image: size, cold start, memory

Written by \`npm run test:image\` (test/image/container.image-test.ts) on ${new Date().toISOString().slice(0, 10)},
commit ${REVISION.slice(0, 12)}. Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${mib(totalmem())} RAM,
Linux ${release()}, load average ${loadavg()[0].toFixed(1)} when written (other work shares the cores),
${podman} (runc, rootful), base ${BASE} (built locally by
\`/work/shared/tools/container-base.sh 22\`: Debian bookworm minbase + Node ${m.node}).

## Size

| | bytes | MB |
|---|---|---|
| base image | ${m.base} | ${mb(m.base!)} |
| inferd image | ${m.total} | ${mb(m.total!)} |
| **added by inferd** | ${added} | **${mb(added)}** (budget 150 MB) |

\`podman image inspect --format '{{.Size}}'\` (uncompressed layers). Build: ${m.buildS!.toFixed(0)} s,
${m.cachedSteps} steps from podman's layer cache.

## Cold start to ready

From \`podman run\` to inferd's first log line (container created, Node started, modules imported), to
the first 200 of \`GET /v2/health/ready\` (polled every 20 ms, \`--network=host\`), and inferd's own
\`readyMs\` (listening → every model loaded, from its \`inferd ready\` log line):

| started as | podman run → first log line | podman run → ready | inferd readyMs |
|---|---|---|---|
${starts}

## Memory

RSS of node (PID 1), from \`/proc/1/status\` in the container: ${mib(m.rssReadyKiB! * 1024)} just after ready,
**${mib(m.rssIdleKiB! * 1024)} idle** (5 s after one spam and one OCR request), peak ${mib(m.hwmKiB! * 1024)}.

## Requests and shutdown

One README OCR request (960 px, 2 lines): ${m.ocrS!.toFixed(2)} s. SIGTERM (\`podman stop --time ${GRACE_S}\`)
during a 4-line OCR page: the request finished 200 and the container exited 0 after ${m.drainS!.toFixed(2)} s.

## Commands

\`\`\`sh
/work/shared/tools/container-base.sh 22
podman build --pull=never --network=host -t ${IMAGE} --build-arg VERSION=${PKG_VERSION} --build-arg REVISION=$(git rev-parse HEAD) .
podman run --rm --network=host --read-only --read-only-tmpfs=false \\
  --tmpfs /tmp:rw,nosuid,nodev,size=256m \\
  --tmpfs /var/lib/inferd:rw,nosuid,nodev,size=64m,U \\
  -e PORT=<free port> -e INFERD_GRPC_PORT=<free port> ${IMAGE}
npm run test:image   # all of the above, measured
\`\`\`
`;
  writeFileSync('bench/results/image.md', text);
}

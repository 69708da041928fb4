/**
 * HAProxy (Debian package haproxy 2.6) standing in for a Kubernetes Service and its endpoints
 * controller: one frontend, one backend of server slots that the drill fills and empties at run
 * time through the runtime API (the admin socket), as pods come and go. Each setting and the
 * Kubernetes behaviour it approximates is in docs/deploy/drills.md.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../helpers/spawn.js';
import { exitOf, sleep, track } from './procs.js';

export interface HaproxyOptions {
  /** Folder for the config and the admin socket. */
  dir: string;
  /** Server slots (s1…sN); a slot holds one replica at a time. */
  slots: number;
  /** Health check period (Kubernetes readinessProbe.periodSeconds, scaled down). */
  checkInterMs: number;
  /** Failed checks before a server leaves (readinessProbe.failureThreshold). */
  fall: number;
  /** Passed checks before a server joins (readinessProbe.successThreshold). */
  rise: number;
}

export function haproxyConfig(o: HaproxyOptions, port: number, socket: string): string {
  const slots = Array.from(
    { length: o.slots },
    // A free slot is in maintenance (no traffic, no checks) until the drill gives it an address.
    (_, i) => `  server s${i + 1} 127.0.0.1:9 disabled`,
  );
  return [
    'global',
    `  stats socket ${socket} mode 600 level admin`,
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    '  timeout client 60s',
    '  timeout server 30s',
    '  timeout queue 5s',
    // A request is retried on another server only where no server can have answered it yet, or the
    // server died before answering (empty-response: kill -9 mid-request). An ingress or mesh in
    // front of a Service does the same (Envoy retry_on connect-failure,reset; nginx
    // proxy_next_upstream error timeout). Inference is idempotent: a retry computes the same answer.
    '  retries 3',
    '  retry-on conn-failure empty-response response-timeout',
    // Every retry goes to another server (a dead endpoint is not tried twice).
    '  option redispatch 1',
    'frontend fe',
    `  bind 127.0.0.1:${port}`,
    '  default_backend be',
    'backend be',
    // Per request over pooled keep-alive connections, as an L7 proxy in front of a Service does.
    '  balance roundrobin',
    // The readiness probe: GET /v2/health/ready, 200 = in the endpoints, anything else = out.
    '  option httpchk',
    '  http-check send meth GET uri /v2/health/ready',
    '  http-check expect status 200',
    `  default-server check inter ${o.checkInterMs} fall ${o.fall} rise ${o.rise}`,
    // Which replica answered (for the per-replica columns of the tables).
    '  http-response set-header x-drill-server %[srv_name]',
    ...slots,
    '',
  ].join('\n');
}

export interface ServerStat {
  status: string;
  /** Sessions to this server now. */
  current: number;
}

export class Haproxy {
  private constructor(
    readonly url: string,
    private readonly socket: string,
    private readonly proc: ReturnType<typeof spawn>,
  ) {}

  static async start(o: HaproxyOptions): Promise<Haproxy> {
    const port = await freePort();
    const socket = join(o.dir, 'haproxy.sock');
    const cfg = join(o.dir, 'haproxy.cfg');
    writeFileSync(cfg, haproxyConfig(o, port, socket));
    // -db: foreground, no daemon (the drill owns the process and kills it by pid).
    const proc = track(spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] }));
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const hp = new Haproxy(`http://127.0.0.1:${port}`, socket, proc);
    for (let i = 0; i < 200; i++) {
      if (proc.exitCode !== null) throw new Error(`haproxy exited ${proc.exitCode}: ${err}`);
      try {
        await hp.command('show info');
        return hp;
      } catch {
        await sleep(25);
      }
    }
    proc.kill('SIGKILL');
    throw new Error(`haproxy did not start: ${err}`);
  }

  /** One runtime API command (a connection per command, the socket's non-interactive mode). */
  command(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = connect(this.socket);
      let out = '';
      s.setEncoding('utf8');
      s.on('connect', () => s.end(`${line}\n`));
      s.on('data', (d: string) => (out += d));
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });
  }

  /** A new pod's address enters the endpoints; traffic starts once its readiness check passes. */
  async attach(slot: number, port: number): Promise<void> {
    await this.command(`set server be/s${slot} addr 127.0.0.1 port ${port}`);
    await this.command(`set server be/s${slot} state ready`);
  }

  /** The slot leaves the endpoints entirely (the pod object is gone). */
  async detach(slot: number): Promise<void> {
    await this.command(`set server be/s${slot} state maint`);
  }

  async stats(): Promise<Map<string, ServerStat>> {
    const csv = (await this.command('show stat')).trim().split('\n');
    const head = csv[0]!.replace(/^# /, '').split(',');
    const col = (n: string): number => head.indexOf(n);
    const out = new Map<string, ServerStat>();
    for (const line of csv.slice(1)) {
      const f = line.split(',');
      if (f[col('pxname')] !== 'be' || !/^s\d+$/.test(f[col('svname')] ?? '')) continue;
      out.set(f[col('svname')]!, { status: f[col('status')]!, current: Number(f[col('scur')]) });
    }
    return out;
  }

  /** Waits until the slot's status starts with `prefix` (UP, DOWN, MAINT). */
  async waitStatus(slot: number, prefix: string, timeoutMs = 30_000): Promise<number> {
    const t0 = performance.now();
    while (performance.now() - t0 < timeoutMs) {
      const st = (await this.stats()).get(`s${slot}`);
      if (st?.status.startsWith(prefix)) return performance.now() - t0;
      await sleep(50);
    }
    throw new Error(`haproxy: s${slot} did not become ${prefix} within ${timeoutMs} ms`);
  }

  async stop(): Promise<void> {
    this.proc.kill('SIGKILL');
    await exitOf(this.proc);
  }
}

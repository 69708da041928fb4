/**
 * One `inferd serve` child process (bin/inferd.js, the real CLI) on loopback ports, as the suite
 * sees it from outside: its HTTP and gRPC addresses, RSS from /proc/<pid>/status, the bytes it
 * logged, a bounded liveness probe, and how it ended (exit code or signal: a crash is any end the
 * suite did not ask for).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort } from '../../helpers/spawn.js';

export interface StartOptions {
  /** Flags after `serve` (besides host and ports, which are always set). */
  args: string[];
  /** Extra environment (INFERD_* settings the flags do not cover). */
  env?: Record<string, string>;
  /** pino level; `info` keeps the access log, so its size can be checked. */
  logLevel?: string;
  /** Longest wait for /v2/health/ready (the OCR models take a while on 2 cores). */
  readyTimeoutMs?: number;
  /** Leave out --host (to test the default bind address). */
  noHost?: boolean;
  /** Keep this many bytes of the log's tail for messages and line checks. */
  keepLogBytes?: number;
}

const TAIL_BYTES = 256 * 1024;

export class Inferd {
  /** Bytes written to stdout + stderr so far (log volume). */
  logBytes = 0;
  /** The longest single log line since start or the last mark(), in bytes. */
  longestLogLine = 0;
  private tail = '';
  private partial = 0;
  /** Set once the process has ended. */
  ended?: { code: number | null; signal: NodeJS.Signals | null };
  /** True when the suite itself stopped the process (a signal it sent). */
  stopping = false;
  private readonly exitPromise: Promise<void>;

  private constructor(
    readonly proc: ChildProcess,
    readonly url: string,
    readonly grpcAddress: string,
    readonly httpPort: number,
    readonly grpcPort: number,
    private readonly keep: number,
  ) {
    this.exitPromise = new Promise((resolve) =>
      proc.once('exit', (code, signal) => {
        this.ended = { code, signal };
        resolve();
      }),
    );
    const onData = (d: Buffer): void => this.onLog(d);
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
  }

  private onLog(d: Buffer): void {
    this.logBytes += d.length;
    let start = 0;
    for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) {
      this.longestLogLine = Math.max(this.longestLogLine, this.partial + i - start);
      this.partial = 0;
      start = i + 1;
    }
    this.partial += d.length - start;
    this.longestLogLine = Math.max(this.longestLogLine, this.partial);
    // Keep a bounded tail (a 100 KB line is cut to its first KBs, enough to read it).
    this.tail += d.toString('utf8', 0, Math.min(d.length, this.keep));
    if (this.tail.length > this.keep) this.tail = this.tail.slice(-this.keep);
  }

  static async start(opts: StartOptions): Promise<Inferd> {
    const httpPort = await freePort();
    const grpcPort = await freePort();
    const args = [
      'bin/inferd.js',
      'serve',
      ...(opts.noHost ? [] : ['--host', '127.0.0.1']),
      '--http-port',
      String(httpPort),
      '--grpc-port',
      String(grpcPort),
      ...opts.args,
    ];
    const proc = spawn(process.execPath, args, {
      env: { ...process.env, INFERD_LOG_LEVEL: opts.logLevel ?? 'warn', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new Inferd(
      proc,
      `http://127.0.0.1:${httpPort}`,
      `127.0.0.1:${grpcPort}`,
      httpPort,
      grpcPort,
      opts.keepLogBytes ?? TAIL_BYTES,
    );
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (server.ended) throw new Error(`inferd exited (${JSON.stringify(server.ended)}): ${server.log()}`);
      try {
        const res = await fetch(server.url + '/v2/health/ready', { signal: AbortSignal.timeout(1000) });
        if (res.status === 200) return server;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    proc.kill('SIGKILL');
    throw new Error(`inferd did not become ready: ${server.log()}`);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** The log since start or the last mark() (bounded to its last KBs). */
  log(): string {
    return this.tail;
  }

  /**
   * Starts a new window of log: log() and longestLogLine cover only what comes after. Returns
   * logBytes at this point.
   */
  mark(): number {
    this.tail = '';
    this.longestLogLine = this.partial;
    return this.logBytes;
  }

  /** True when the process ended without the suite asking. */
  get crashed(): boolean {
    return this.ended !== undefined && !this.stopping;
  }

  /** Resident set size in MiB (VmRSS), or undefined once the process is gone. */
  rssMiB(): number | undefined {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  /** Milliseconds /v2/health/live took to answer 200, or undefined if it did not within `boundMs`. */
  async liveMs(boundMs = 5_000): Promise<number | undefined> {
    if (this.ended) return undefined;
    const t0 = performance.now();
    try {
      const res = await fetch(this.url + '/v2/health/live', { signal: AbortSignal.timeout(boundMs) });
      await res.arrayBuffer();
      return res.status === 200 ? performance.now() - t0 : undefined;
    } catch {
      return undefined;
    }
  }

  exited(): Promise<void> {
    return this.exitPromise;
  }

  /** Sends `signal` (the suite's own stop) and waits up to `timeoutMs` before SIGKILL. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<Inferd['ended']> {
    if (this.ended) return this.ended;
    this.stopping = true;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await this.exitPromise;
    clearTimeout(timer);
    return this.ended;
  }
}

/** Samples a server's RSS every `everyMs` until stopped: start, peak and last value, in MiB. */
export function sampleRss(server: Inferd, everyMs = 200): { stop(): { peak: number; last: number } } {
  let peak = server.rssMiB() ?? 0;
  let last = peak;
  const timer = setInterval(() => {
    const r = server.rssMiB();
    if (r === undefined) return;
    last = r;
    peak = Math.max(peak, r);
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      const r = server.rssMiB();
      if (r !== undefined) {
        last = r;
        peak = Math.max(peak, r);
      }
      return { peak, last };
    },
  };
}

/**
 * Probes liveness every `everyMs` while an attack runs: the slowest answer and how many probes
 * got none within `boundMs`.
 */
export function probeLiveness(
  server: Inferd,
  everyMs = 250,
  boundMs = 5_000,
): { stop(): Promise<{ probes: number; worstMs: number; missed: number }> } {
  let probes = 0;
  let worst = 0;
  let missed = 0;
  const inflight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    if (server.ended) return;
    const p = server.liveMs(boundMs).then((ms) => {
      probes += 1;
      if (ms === undefined) missed += 1;
      else worst = Math.max(worst, ms);
    });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  }, everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all([...inflight]);
      return { probes, worstMs: worst, missed };
    },
  };
}

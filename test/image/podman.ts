/**
 * Podman from a test: commands with their output, and one running inferd container whose stdout
 * (the JSON log) and exit code are the container's own (`podman run` attached, not `-d`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; never throws on a non-zero exit (the caller asserts). */
export function run(cmd: string, args: readonly string[], timeoutMs = 60_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/** Image size in bytes as podman reports it (the sum of its layers, uncompressed). */
export async function imageSize(image: string): Promise<number> {
  const r = await run('podman', ['image', 'inspect', '--format', '{{.Size}}', image]);
  if (r.code !== 0) throw new Error(`podman image inspect ${image}: ${r.stderr}`);
  return Number(r.stdout.trim());
}

export class Container {
  readonly proc: ChildProcess;
  readonly startedAt = performance.now();
  stdout = '';
  stderr = '';
  /** ms from `podman run` to the container's first byte of stdout (inferd's first log line). */
  firstOutputMs?: number;
  readonly exit: Promise<number>;

  /** `podman run --rm --name NAME …podmanArgs IMAGE …args`, attached. */
  constructor(
    readonly name: string,
    podmanArgs: readonly string[],
    image: string,
    args: readonly string[],
  ) {
    this.proc = spawn('podman', ['run', '--rm', '--name', name, ...podmanArgs, image, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout!.on('data', (d: Buffer) => {
      this.firstOutputMs ??= performance.now() - this.startedAt;
      this.stdout += d.toString();
    });
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exit = new Promise((resolve) => this.proc.on('close', (code) => resolve(code ?? -1)));
  }

  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  /** Polls GET url every 20 ms until 200; returns ms since `podman run` was spawned. */
  async waitReady(url: string, timeoutMs = 120_000): Promise<number> {
    while (performance.now() - this.startedAt < timeoutMs) {
      if (this.exited) throw new Error(`container exited early:\n${this.stdout}\n${this.stderr}`);
      const status = await fetch(url).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) return performance.now() - this.startedAt;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`not ready within ${timeoutMs} ms:\n${this.stdout}\n${this.stderr}`);
  }

  exec(args: readonly string[]): Promise<Result> {
    return run('podman', ['exec', this.name, ...args]);
  }

  /** Every stdout line parsed as JSON (throws on one that is not: the log must be JSON only). */
  logLines(): Record<string, unknown>[] {
    return this.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          throw new Error(`a stdout line is not JSON: ${l}`);
        }
      });
  }

  /** Best effort: never leaves a container behind when a test fails half-way. */
  async remove(): Promise<void> {
    if (!this.exited) await run('podman', ['rm', '--force', '--time', '0', this.name]);
    await this.exit;
  }
}

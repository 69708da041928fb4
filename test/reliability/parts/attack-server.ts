/**
 * The server the corpus attacks, set up as the attacker found it: auth on, an admin token,
 * SQLite keys and usage, the access log at info level (its size is checked), the OCR models,
 * broken models and cyclic pipelines, plus the short transport timeouts of settings.ts. A case
 * that crashes or freezes it gets a fresh one (same repository, store and keys).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { makeHelpers, type CaseContext } from '../corpus/case.js';
import { inferenceClient, rawClient } from '../lib/grpc.js';
import { Inferd } from '../lib/inferd.js';
import { createKey, type CreatedKey } from '../lib/keys.js';
import { makeSuiteRepository } from '../lib/repo.js';
import { ADMIN_TOKEN, TRANSPORT_ENV } from '../settings.js';

export class AttackServer {
  server!: Inferd;
  private grpcClient!: grpc.Client;
  private rawGrpc!: grpc.Client;
  /** Servers started so far (1 + restarts). */
  starts = 0;

  private constructor(
    readonly repo: string,
    readonly dataDir: string,
    readonly key: CreatedKey,
    readonly freeKey: CreatedKey,
  ) {}

  static async start(): Promise<AttackServer> {
    const repo = makeSuiteRepository({ ocr: true, cycles: true, broken: true, slowDepth: 8 });
    const dataDir = mkdtempSync(join(tmpdir(), 'inferd-rel-attack-'));
    const a = new AttackServer(
      repo,
      dataDir,
      createKey(dataDir, 'attack'),
      createKey(dataDir, 'attack-free', 'free'),
    );
    await a.boot();
    return a;
  }

  private async boot(): Promise<void> {
    this.server = await Inferd.start({
      args: [
        '--model-repository',
        this.repo,
        '--data-dir',
        this.dataDir,
        '--auth',
        'on',
        '--admin-token',
        ADMIN_TOKEN,
      ],
      env: TRANSPORT_ENV,
      logLevel: 'info',
      readyTimeoutMs: 120_000,
    });
    this.grpcClient = inferenceClient(this.server.grpcAddress);
    this.rawGrpc = rawClient(this.server.grpcAddress);
    this.starts += 1;
  }

  /** Kills what is left of the current server and starts a new one. */
  async restart(): Promise<void> {
    this.grpcClient.close();
    this.rawGrpc.close();
    await this.server.stop('SIGKILL');
    await this.boot();
  }

  context(): CaseContext {
    const base = {
      server: this.server,
      repo: this.repo,
      dataDir: this.dataDir,
      key: this.key,
      freeKey: this.freeKey,
      grpcClient: this.grpcClient,
      rawGrpc: this.rawGrpc,
    };
    return { ...base, ...makeHelpers(base) };
  }

  async close(): Promise<void> {
    this.grpcClient.close();
    this.rawGrpc.close();
    await this.server.stop();
    rmSync(this.repo, { recursive: true, force: true });
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

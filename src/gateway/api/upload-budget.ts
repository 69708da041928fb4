/**
 * A byte budget for multipart uploads. @fastify/multipart pipes the raw request into busboy itself,
 * so neither fastify's body limit nor a preParsing stream sees those bytes, and a chunked upload
 * (no Content-Length) was read whole whatever the plan allowed. The budget counts the raw bytes as
 * they arrive; past the limit it stops feeding busboy and `race` rejects at once with the refusal.
 *
 * Contract: create it in the same tick as busboy starts reading (the first `parts().next()`), so
 * that it sees every chunk; call `stop` when the upload is done.
 */
import type { IncomingMessage } from 'node:http';
import type { InferdError } from '../../errors.js';

export class UploadBudget {
  private seen = 0;
  private refused = false;
  private reject!: (e: InferdError) => void;
  private readonly over: Promise<never>;

  constructor(
    private readonly raw: IncomingMessage,
    private readonly max: number,
    private readonly tooLarge: () => InferdError,
  ) {
    this.over = new Promise<never>((_resolve, reject) => (this.reject = reject));
    this.over.catch(() => undefined); // observed through race(); never unhandled
    raw.on('data', this.onData);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.seen += chunk.length;
    if (this.seen <= this.max || this.refused) return;
    this.refused = true;
    // The rest is not read: busboy gets nothing more, and the answer closes the connection.
    this.raw.unpipe();
    this.raw.pause();
    this.reject(this.tooLarge());
  };

  /** `p`'s outcome, or the refusal as soon as the upload passes the limit. */
  race<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.over]);
  }

  stop(): void {
    this.raw.removeListener('data', this.onData);
  }
}

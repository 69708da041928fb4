/**
 * A loopback TCP proxy that can stop reading from the server: a client that has sent its requests
 * and then reads nothing, at the TCP level. (A gRPC client that merely leaves its stream unread
 * does not push back: Node's HTTP/2 acknowledges received data itself, so the answers pile up in
 * the client, not the server.)
 */
import net from 'node:net';

export interface StallProxy {
  /** host:port to connect to instead of the server. */
  address: string;
  /** Stop reading what the server sends (it stays in the server's buffers). */
  stall(): void;
  /** Bytes received from the server so far. */
  received(): number;
  close(): Promise<void>;
}

export function stallProxy(targetPort: number): Promise<StallProxy> {
  const upstreams = new Set<net.Socket>();
  const sockets = new Set<net.Socket>();
  let stalled = false;
  let received = 0;
  const server = net.createServer((client) => {
    const up = net.connect({ host: '127.0.0.1', port: targetPort });
    upstreams.add(up);
    sockets.add(client).add(up);
    client.pipe(up);
    up.on('data', (d: Buffer) => {
      received += d.length;
      client.write(d);
    });
    if (stalled) up.pause();
    const end = (): void => {
      client.destroy();
      up.destroy();
    };
    client.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        address: `127.0.0.1:${port}`,
        stall: () => {
          stalled = true;
          for (const up of upstreams) up.pause();
        },
        received: () => received,
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

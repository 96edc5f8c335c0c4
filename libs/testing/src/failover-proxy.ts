import net from 'node:net';
import { freePort } from './ports';

/** A TCP front door to several servers, as a load balancer with health checks gives clients. */
export interface FailoverProxy {
  url: string;
  /** Connections forwarded so far, per backend port. */
  forwarded: Map<number, number>;
  close(): Promise<void>;
}

/**
 * Forwards every connection to the first backend (loopback ports, in order of preference) that accepts it, so
 * clients reach the preferred node while it lives and the next one once it is gone. Connections already
 * forwarded to a backend that dies are closed, as a load balancer would.
 */
export async function failoverProxy(backends: number[]): Promise<FailoverProxy> {
  const forwarded = new Map<number, number>();
  const open = new Set<net.Socket>();
  const connectFirst = (i: number, client: net.Socket): void => {
    if (i >= backends.length || client.destroyed) {
      client.destroy();
      return;
    }
    const upstream = net.connect(backends[i], '127.0.0.1');
    const refused = () => connectFirst(i + 1, client);
    upstream.once('error', refused);
    upstream.once('connect', () => {
      forwarded.set(backends[i], (forwarded.get(backends[i]) ?? 0) + 1);
      open.add(upstream);
      upstream.off('error', refused);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.on('close', () => {
        open.delete(upstream);
        client.destroy();
      });
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  };
  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => undefined);
    connectFirst(0, client);
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    forwarded,
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

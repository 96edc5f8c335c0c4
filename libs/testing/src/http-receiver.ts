import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  /** The raw body, as the sender signed it. */
  body: string;
  headers: IncomingMessage['headers'];
  /** The status this receiver answered with. */
  status: number;
  /** When it arrived (epoch ms). */
  at: number;
}

export interface HttpReceiver {
  url: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * A real HTTP receiver (webhooks) on a free loopback port: answers each request with the next scripted status
 * (then 200), keeps every request's raw body and headers.
 */
export async function startHttpReceiver(statuses: number[] = []): Promise<HttpReceiver> {
  const received: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = statuses[received.length] ?? 200;
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers, status, at: Date.now() });
      res.statusCode = status;
      res.end(status === 200 ? 'ok' : 'try again');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=abc`,
    received,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

import { Logger } from '@nestjs/common';
import { createClient } from '@redis/client';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Server } from 'socket.io';

const logger = new Logger('ClusterAdapter');

/**
 * Puts a socket.io server (every namespace: /devices, /live) on the Redis adapter, so that broadcasts and
 * requests to a device reach the node holding its socket. Resolves with a function that closes the clients.
 */
export async function attachRedisAdapter(server: Server, url: string, prefix: string): Promise<() => Promise<void>> {
  const pub = createClient({ url });
  const sub = pub.duplicate();
  // Without listeners a lost connection would throw; the clients reconnect by themselves.
  pub.on('error', (e: Error) => logger.error(`redis (pub): ${e.message}`));
  sub.on('error', (e: Error) => logger.error(`redis (sub): ${e.message}`));
  await Promise.all([pub.connect(), sub.connect()]);
  // The adapter counts the nodes on its channels to know when every node has answered: another platform on the
  // same channels would be counted, and would receive this one's broadcasts and device requests.
  server.adapter(createAdapter(pub, sub, { key: `${prefix}-socket.io`, requestsTimeout: 5000 }));
  logger.log(`socket.io on the Redis adapter (${new URL(url).host}, channels ${prefix}-socket.io#*)`);
  return async () => {
    await Promise.allSettled([pub.quit(), sub.quit()]);
  };
}

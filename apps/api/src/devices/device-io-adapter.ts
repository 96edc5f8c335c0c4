import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { IncomingMessage } from 'node:http';
import type { Server, ServerOptions } from 'socket.io';

/**
 * The largest message a device (or any socket.io client) may send, in bytes. Devices send heartbeats and
 * acks (scores, bit-packed features): kilobytes. Deploys travel the other way and are not bound by it.
 */
export const DEVICE_MESSAGE_LIMIT_BYTES = 1024 * 1024;

/** How long a connection may stay without joining a namespace it is allowed in (socket.io's default is 45 s). */
export const NAMESPACE_JOIN_TIMEOUT_MS = 10_000;

/** What a client asking for the main namespace is told: nothing is served there. */
export const NO_MAIN_NAMESPACE = 'nothing is served on the main namespace: connect to /devices (devices) or /live (dashboards)';

/**
 * socket.io has one engine per HTTP server, created with the options of whichever gateway Nest sets up
 * first, so a limit on one gateway's decorator is silently ignored. Setting it here puts it in effect for
 * every namespace, and the engine advertises the same number (maxPayload) in its handshake.
 *
 * Connections are bounded too. Anyone could open a connection and stay on the main namespace, which needs no token
 * (15,000 of them held 230 MB and most file descriptors): it now refuses everyone, so a connection that joins no
 * namespace it is allowed in is closed after NAMESPACE_JOIN_TIMEOUT_MS, and one address holds at most
 * `maxPerAddress` connections at once.
 */
export class PlatformIoAdapter extends IoAdapter {
  private readonly perAddress = new Map<string, number>();
  /** A slot taken at the handshake; the connection it opens claims it and gives it back when it closes. */
  private readonly reserved = new WeakMap<IncomingMessage, () => () => void>();

  constructor(
    app: INestApplicationContext,
    private readonly maxPerAddress: number,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): unknown {
    const server = super.createIOServer(port, {
      ...options,
      maxHttpBufferSize: DEVICE_MESSAGE_LIMIT_BYTES,
      connectTimeout: NAMESPACE_JOIN_TIMEOUT_MS,
      allowRequest: (req: IncomingMessage, done: (err: string | null | undefined, ok: boolean) => void) => {
        const reason = this.reserve(req);
        if (reason) done(reason, false);
        else done(null, true);
      },
    } as ServerOptions) as Server;
    server.engine.on('connection', (conn: { request: IncomingMessage; once(event: 'close', f: () => void): void }) => {
      const claim = this.reserved.get(conn.request);
      if (claim) conn.once('close', claim());
    });
    server.of('/').use((_socket, next) => next(new Error(NO_MAIN_NAMESPACE)));
    return server;
  }

  /**
   * Takes a slot of the request's address at its handshake, so that handshakes racing each other cannot all pass
   * (a connection is only counted once it opens, after the upgrade); null when taken, else why not.
   */
  private reserve(req: IncomingMessage): string | null {
    const address = req.socket.remoteAddress ?? 'unknown';
    const open = this.perAddress.get(address) ?? 0;
    if (open >= this.maxPerAddress) return `too many connections from this address (at most ${this.maxPerAddress})`;
    this.perAddress.set(address, open + 1);
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    };
    // A handshake that opens no connection (a failed upgrade) gives its slot back.
    const unclaimed = setTimeout(release, NAMESPACE_JOIN_TIMEOUT_MS);
    unclaimed.unref();
    this.reserved.set(req, () => {
      clearTimeout(unclaimed);
      return release;
    });
    return null;
  }
}

import { IoAdapter } from '@nestjs/platform-socket.io';
import type { ServerOptions } from 'socket.io';

/**
 * The largest message a device (or any socket.io client) may send, in bytes. Devices send heartbeats and
 * acks (scores, bit-packed features): kilobytes. Deploys travel the other way and are not bound by it.
 */
export const DEVICE_MESSAGE_LIMIT_BYTES = 1024 * 1024;

/**
 * socket.io has one engine per HTTP server, created with the options of whichever gateway Nest sets up
 * first, so a limit on one gateway's decorator is silently ignored. Setting it here puts it in effect for
 * every namespace, and the engine advertises the same number (maxPayload) in its handshake.
 */
export class PlatformIoAdapter extends IoAdapter {
  override createIOServer(port: number, options?: ServerOptions): unknown {
    return super.createIOServer(port, { ...options, maxHttpBufferSize: DEVICE_MESSAGE_LIMIT_BYTES } as ServerOptions);
  }
}

import type { Socket } from 'socket.io';
import type { DeviceIdentity } from './transport/device-endpoint';
import { type DeviceEndpoint, EndpointClosedError, EndpointTimeoutError } from './transport/device-endpoint';
import { PendingCalls } from './transport/pending-calls';

/** A device agent connected to this node over socket.io /devices. */
export class SocketEndpoint implements DeviceEndpoint {
  readonly kind = 'socket' as const;
  readonly deviceId: string;
  readonly name: string;
  readonly role: DeviceIdentity['role'];
  readonly view: number | null;
  readonly closed: Promise<string>;
  private readonly calls = new PendingCalls();

  constructor(private readonly socket: Socket, device: DeviceIdentity) {
    this.deviceId = device.id;
    this.name = device.name;
    this.role = device.role;
    this.view = device.view;
    this.closed = new Promise((resolve) =>
      socket.once('disconnect', (reason: string) => {
        this.calls.close(new EndpointClosedError(`device ${this.deviceId} disconnected (${reason})`));
        resolve(reason);
      }),
    );
  }

  async call(event: 'deploy' | 'infer', payload: unknown, timeoutMs: number): Promise<unknown> {
    if (this.socket.disconnected) throw new EndpointClosedError(`device ${this.deviceId} is disconnected`);
    const reply = this.socket.timeout(timeoutMs).emitWithAck(event, payload).catch(() => {
      throw new EndpointTimeoutError(`device ${this.deviceId} did not answer ${event} within ${timeoutMs} ms`);
    });
    return this.calls.run(reply);
  }

  shutdown(reason: string): void {
    this.socket.emit('protocol-error', { event: 'connection', error: reason });
    this.socket.disconnect(true);
  }
}

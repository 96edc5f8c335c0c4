import type { Socket } from 'socket.io';
import type { DeviceIdentity } from './transport/device-endpoint';
import { type DeviceEndpoint, EndpointClosedError, EndpointTimeoutError } from './transport/device-endpoint';
import { PendingCalls } from './transport/pending-calls';

/**
 * More messages than this in a window is a flood, not a device keeping alive. A device sends heartbeats only (its
 * answers are acks): the agent beats every 5 s by default, never more often than every 100 ms, and a changed problem
 * at most once a second besides (110 in 10 s at most).
 */
export const MESSAGE_FLOOD = { messages: 200, windowMs: 10_000 } as const;

/** A device agent connected to this node over socket.io /devices. */
export class SocketEndpoint implements DeviceEndpoint {
  readonly kind = 'socket' as const;
  readonly deviceId: string;
  readonly name: string;
  readonly role: DeviceIdentity['role'];
  readonly view: number | null;
  readonly connectionId: string;
  readonly closed: Promise<string>;
  private readonly calls = new PendingCalls();
  private readonly opened: Promise<void>;
  private markOpen!: () => void;
  private isOpen = false;
  private windowStart = 0;
  private messagesInWindow = 0;

  constructor(private readonly socket: Socket, device: DeviceIdentity) {
    this.deviceId = device.id;
    this.name = device.name;
    this.role = device.role;
    this.view = device.view;
    this.connectionId = socket.id;
    this.closed = new Promise((resolve) =>
      socket.once('disconnect', (reason: string) => {
        this.calls.close(new EndpointClosedError(`device ${this.deviceId} disconnected (${reason})`));
        resolve(reason);
      }),
    );
    this.opened = new Promise((resolve) => (this.markOpen = resolve));
  }

  /**
   * Lets calls through. The endpoint is reachable (listed, addressable) from the moment the socket connects, so a
   * deploy aimed at a device the API already shows as active finds it; its calls wait until the server has logged
   * the connection and checked the token again, so nothing reaches the device (or its log) before DeviceConnected.
   */
  open(): void {
    this.isOpen = true;
    this.markOpen();
  }

  /**
   * Counts a message the device sent, well-formed or not (a malformed one costs a parse and an error sent back);
   * true once the connection sent more than MESSAGE_FLOOD allows in its current window.
   */
  messageFlood(now: number): boolean {
    if (now - this.windowStart >= MESSAGE_FLOOD.windowMs) {
      this.windowStart = now;
      this.messagesInWindow = 0;
    }
    return ++this.messagesInWindow > MESSAGE_FLOOD.messages;
  }

  async call(event: 'deploy' | 'infer', payload: unknown, timeoutMs: number): Promise<unknown> {
    const started = performance.now();
    let budget = timeoutMs;
    if (!this.isOpen) {
      // The wait for open() counts against the call's time: a slow database holds the connection's setup up.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([this.opened, this.closed, late]).finally(() => clearTimeout(timer));
      if (!this.isOpen && !this.socket.disconnected) throw new EndpointTimeoutError(`device ${this.deviceId} was still connecting after ${timeoutMs} ms`);
      budget = Math.max(1, Math.round(timeoutMs - (performance.now() - started)));
    }
    if (this.socket.disconnected) throw new EndpointClosedError(`device ${this.deviceId} is disconnected`);
    const reply = this.socket.timeout(budget).emitWithAck(event, payload).catch(() => {
      throw new EndpointTimeoutError(`device ${this.deviceId} did not answer ${event} within ${timeoutMs} ms`);
    });
    return this.calls.run(reply);
  }

  shutdown(reason: string): void {
    this.socket.emit('protocol-error', { event: 'connection', error: reason });
    this.socket.disconnect(true);
  }
}

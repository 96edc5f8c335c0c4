import { Injectable, Logger } from '@nestjs/common';
import type { Namespace } from 'socket.io';
import { DeviceEvents, type DeployAck, type DeployMessage, type InferReply, type InferRequest } from '@ddnn/contracts';
import { parseDeployAck, parseInferReply, ProtocolError } from '@ddnn/contracts';
import { DevicesService } from '../devices.service';
import { MalformedMessages } from '../malformed-messages';
import { type DeviceEndpoint, type DeviceIdentity, deviceRoom, EndpointClosedError, EndpointTimeoutError } from './device-endpoint';
import { type ConnectedDevice, DeviceTransport, DeviceUnavailableError, MalformedReplyError } from './device-transport';

/**
 * DeviceTransport over the endpoints attached on this node: socket.io connections (DevicesGateway) and
 * simulated devices (SimulationsService). Both get the same payloads and their acks go through the same
 * validation, so a session cannot tell them apart.
 */
@Injectable()
export class DeviceTransportService extends DeviceTransport {
  private readonly logger = new Logger(DeviceTransport.name);
  private readonly endpoints = new Map<string, DeviceEndpoint>();
  private readonly installed = new Map<string, { modelId: string; modelVersion: string; section: string }>();
  private ns?: Namespace;
  private clustered = false;

  constructor(
    private readonly devices: DevicesService,
    private readonly malformed: MalformedMessages,
  ) {
    super();
  }

  /** The /devices namespace; clustered = on the Redis adapter, so devices on other nodes are reachable too. */
  useNamespace(ns: Namespace, clustered = false): void {
    this.ns = ns;
    this.clustered = clustered;
  }

  /**
   * Makes a device reachable; a newer endpoint for the same device replaces the older one. What was installed through
   * the older one is forgotten: a new connection is an agent that restarted (or another with the same identity), with
   * no section, and an install recorded for the old one kept every deploy from reaching it.
   */
  attach(endpoint: DeviceEndpoint): void {
    if (this.endpoints.get(endpoint.deviceId) !== endpoint) this.installed.delete(endpoint.deviceId);
    this.endpoints.set(endpoint.deviceId, endpoint);
    void endpoint.closed.then(() => this.detach(endpoint));
  }

  /** Forgets an endpoint if it is still the current one for its device. */
  detach(endpoint: DeviceEndpoint): void {
    if (this.endpoints.get(endpoint.deviceId) === endpoint) {
      this.endpoints.delete(endpoint.deviceId);
      this.installed.delete(endpoint.deviceId);
    }
  }

  /**
   * Cuts a device off (locked, token revoked or rotated): its attached endpoint, and every socket in its room, here
   * and (on the adapter) on every node. The room holds a socket from its handshake on, so a socket whose connection
   * is still being logged, not attached yet, is cut too.
   */
  disconnect(deviceId: string, reason: string): void {
    this.endpoints.get(deviceId)?.shutdown(reason);
    this.ns?.in(deviceRoom(deviceId)).disconnectSockets(true);
  }

  endpoint(deviceId: string): DeviceEndpoint | undefined {
    return this.endpoints.get(deviceId);
  }

  connectionOf(deviceId: string): string | undefined {
    return this.endpoints.get(deviceId)?.connectionId;
  }

  async request(deviceId: string, req: InferRequest, timeoutMs: number): Promise<InferReply> {
    const raw = await this.call(deviceId, DeviceEvents.infer, req, timeoutMs);
    try {
      return parseInferReply(req.stage, raw);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.malformed.record(deviceId, this.nameOf(deviceId), `reply to infer ${req.stage}: ${e.message}`);
      throw new MalformedReplyError(deviceId, e.message);
    }
  }

  async deploy(deviceId: string, msg: DeployMessage, timeoutMs: number): Promise<DeployAck> {
    const through = this.endpoints.get(deviceId);
    const raw = await this.call(deviceId, DeviceEvents.deploy, msg, timeoutMs);
    let ack: DeployAck;
    try {
      ack = parseDeployAck(raw);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.malformed.record(deviceId, this.nameOf(deviceId), e.message);
      return { ok: false, error: `malformed ack: ${e.message}` };
    }
    if (ack.ok) {
      // The ack must confirm what was sent; what is recorded is what the server sent, never the device's claim.
      const mismatch = deployAckMismatch(msg, ack);
      if (mismatch) {
        this.malformed.record(deviceId, this.nameOf(deviceId), `deploy ack: ${mismatch}`);
        return { ok: false, error: `deploy ack does not match the deploy: ${mismatch}` };
      }
      const installed = { modelId: msg.modelId, modelVersion: msg.modelVersion, section: msg.section };
      // Installed on the connection it went through: not on one that replaced it while the ack was on its way, nor
      // (a device on another node, reached through the adapter) on a connection this node does not hold.
      if (through !== undefined && this.endpoints.get(deviceId) === through) this.installed.set(deviceId, installed);
      await this.devices.deployed(deviceId, { ...installed, bytes: msg.weights.byteLength });
    } else {
      this.logger.warn(`device ${deviceId} refused section ${msg.section}: ${ack.error}`);
    }
    return ack;
  }

  private nameOf(deviceId: string): string {
    return this.endpoints.get(deviceId)?.name ?? 'remote device';
  }

  async connectedDevices(): Promise<ConnectedDevice[]> {
    const local = [...this.endpoints.values()].map((e): ConnectedDevice => {
      const m = this.installed.get(e.deviceId);
      return {
        deviceId: e.deviceId,
        name: e.name,
        role: e.role,
        view: e.view,
        kind: e.kind,
        connectionId: e.connectionId,
        modelId: m?.modelId ?? null,
        modelVersion: m?.modelVersion ?? null,
        section: m?.section ?? null,
      };
    });
    if (!this.ns || !this.clustered) return local;
    const seen = new Set(local.map((d) => d.deviceId));
    // A device with two sockets for a moment (a restarted agent whose old one is not found dead yet): the newest
    // handshake, so that its connection id does not flip between polls (each flip redeploys its run's sections).
    const remote = new Map<string, { device: ConnectedDevice; issued: number }>();
    for (const s of await this.ns.fetchSockets()) {
      const d = s.data?.device as DeviceIdentity | undefined;
      if (!d || seen.has(d.id)) continue;
      const issued = s.handshake.issued;
      const other = remote.get(d.id);
      if (other && (other.issued > issued || (other.issued === issued && other.device.connectionId > s.id))) continue;
      remote.set(d.id, { issued, device: { deviceId: d.id, name: d.name, role: d.role, view: d.view, kind: 'socket', connectionId: s.id, modelId: null, modelVersion: null, section: null } });
    }
    return [...local, ...[...remote.values()].map((r) => r.device)];
  }

  private async call(deviceId: string, event: 'deploy' | 'infer', payload: unknown, timeoutMs: number): Promise<unknown> {
    const endpoint = this.endpoints.get(deviceId);
    if (!endpoint) {
      if (this.ns && this.clustered) return this.remoteCall(deviceId, event, payload, timeoutMs);
      throw new DeviceUnavailableError(deviceId, 'not-connected');
    }
    try {
      return await endpoint.call(event, payload, timeoutMs);
    } catch (e) {
      if (e instanceof EndpointTimeoutError) throw new DeviceUnavailableError(deviceId, 'timeout');
      if (e instanceof EndpointClosedError) throw new DeviceUnavailableError(deviceId, 'disconnected');
      throw e;
    }
  }

  /** Through the Redis adapter: the node holding the device's socket (room device:<id>) delivers it and returns the ack. */
  private async remoteCall(deviceId: string, event: 'deploy' | 'infer', payload: unknown, timeoutMs: number): Promise<unknown> {
    let replies: unknown[];
    try {
      replies = await (this.ns as Namespace).to(deviceRoom(deviceId)).timeout(timeoutMs).emitWithAck(event, payload);
    } catch {
      throw new DeviceUnavailableError(deviceId, 'timeout');
    }
    if (replies.length === 0) throw new DeviceUnavailableError(deviceId, 'not-connected');
    return replies[0];
  }
}

/** How an ok deploy ack differs from the deploy it answers (model, version, section, byte count), or null. */
export function deployAckMismatch(sent: DeployMessage, ack: Extract<DeployAck, { ok: true }>): string | null {
  const problems: string[] = [];
  if (ack.modelId !== sent.modelId) problems.push(`modelId ${JSON.stringify(ack.modelId)} (sent ${JSON.stringify(sent.modelId)})`);
  if (ack.modelVersion !== sent.modelVersion) problems.push(`modelVersion ${JSON.stringify(ack.modelVersion)} (sent ${JSON.stringify(sent.modelVersion)})`);
  if (ack.section !== sent.section) problems.push(`section ${JSON.stringify(ack.section)} (sent ${JSON.stringify(sent.section)})`);
  if (ack.bytes !== sent.weights.byteLength) problems.push(`bytes ${ack.bytes} (sent ${sent.weights.byteLength})`);
  return problems.length ? problems.join(', ') : null;
}

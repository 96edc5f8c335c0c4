export type SimulatedFailureKind = 'crash' | 'slow' | 'flaky';

export interface SimulatedFailure {
  /** Index of the simulated device (0-based, in creation order). */
  device: number;
  /** From this sample index on. */
  atSample: number;
  /** crash: stops answering and disconnects; slow: answers after the deadline; flaky: misses every other request. */
  kind: SimulatedFailureKind;
}
export interface SimulatedLink {
  latencyMs: number;
  bandwidthKbps: number;
}

/** POST /api/simulations */
export interface CreateSimulationRequest {
  devices: number;
  failures?: SimulatedFailure[];
  link?: SimulatedLink;
  /** Keep the devices after the session that uses the simulation ends (default: they are deleted with it). */
  persist?: boolean;
}
export interface SimulationView {
  id: string;
  devices: { deviceId: string; name: string; role: 'end-device' | 'edge'; view: number | null; index: number }[];
  failures: SimulatedFailure[];
  link: SimulatedLink | null;
  persist: boolean;
  /** The session whose end stops this simulation (set when a session names it). */
  sessionId: string | null;
  createdAt: string;
}

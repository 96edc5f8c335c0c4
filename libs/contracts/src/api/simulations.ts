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

/**
 * Where simulated end devices take their frames: `dataset` replays the session's dataset split (research runs);
 * `scene` captures the synthetic moving scene (libs/datasets) at each trigger, with a capture time, as a camera
 * on a street would (streams).
 */
export type SimulationSource = 'dataset' | 'scene';

/** The moving scene a `scene` simulation watches: its seed, and after how many passages it repeats (unset: never). */
export interface SimulationScene {
  seed: number;
  period?: number;
}

/** A scene camera's degradation knobs, each 0..1: extra sensor noise, and the share of its view hidden at the lens. */
export interface CameraKnobsView {
  view: number;
  noise: number;
  occlusion: number;
}

/** PATCH /api/simulations/:id/cameras/:view: the knobs to change (omitted ones stay as they are). */
export interface UpdateCameraKnobsRequest {
  noise?: number;
  occlusion?: number;
}

/** POST /api/simulations */
export interface CreateSimulationRequest {
  devices: number;
  /** Default `dataset`. */
  source?: SimulationSource;
  /** For `scene`: default seed 1, never repeating. */
  scene?: SimulationScene;
  failures?: SimulatedFailure[];
  link?: SimulatedLink;
  /**
   * Runs on after the session that uses it ends, and after restarts, until deleted (default: it ends with that
   * session, and its devices are deleted).
   */
  persist?: boolean;
}
export interface SimulationView {
  id: string;
  devices: { deviceId: string; name: string; role: 'end-device' | 'edge'; view: number | null; index: number }[];
  failures: SimulatedFailure[];
  link: SimulatedLink | null;
  source: SimulationSource;
  /** The scene and each camera's knobs (`scene` simulations; null for `dataset`). */
  scene: (SimulationScene & { cameras: CameraKnobsView[] }) | null;
  persist: boolean;
  /** The session whose end stops this simulation (set when a session names it). */
  sessionId: string | null;
  createdAt: string;
}

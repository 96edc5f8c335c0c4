import { clampKnobs, sceneFrameKey, sceneImage, sceneInput, type CameraKnobs, type MovingScene, type Raster } from '@ddnn/datasets';
import type { Capture, CaptureSource, ViewShape } from '@ddnn/ddnn';

/**
 * Clean frames of a scene simulation, shared by its cameras and bounded. Rendering a frame is the scene's whole
 * cost (a few ms of ray casting), and a repeating scene shows the same frames again: a long-running demo renders
 * each frame once. Degraded frames are never cached (knobs change at run time, and only the degraded camera pays).
 */
export class SceneFrameCache {
  private readonly frames = new Map<string, Raster | null>();

  constructor(private readonly maxFrames: number) {}

  get size(): number {
    return this.frames.size;
  }

  frame(key: string, render: () => Raster | null): Raster | null {
    const known = this.frames.get(key);
    if (known !== undefined) {
      // Least recently used goes first: re-inserting moves the key to the end.
      this.frames.delete(key);
      this.frames.set(key, known);
      return known;
    }
    const image = render();
    this.frames.set(key, image);
    while (this.frames.size > this.maxFrames) this.frames.delete(this.frames.keys().next().value as string);
    return image;
  }
}

/**
 * A simulated camera on the moving scene: at each trigger it shoots what is in front of it now (wall clock), as a
 * real camera would, degraded by its knobs. A camera that does not see the object captures nothing: a skipped
 * capture, exactly as a dataset's missing view is at a replaying device (the model was trained with such a device
 * absent, not fused as an empty image).
 */
export class SceneCaptureSource implements CaptureSource {
  private current: CameraKnobs = { noise: 0, occlusion: 0 };

  constructor(
    private readonly scene: MovingScene,
    readonly camera: number,
    private readonly cache: SceneFrameCache,
    private readonly clock: () => number = Date.now,
  ) {}

  get knobs(): CameraKnobs {
    return { ...this.current };
  }

  /** Sets some knobs (each clamped to 0..1); the others stay. */
  setKnobs(knobs: Partial<CameraKnobs>): CameraKnobs {
    // An omitted knob may still be a key holding undefined (a validated DTO instance declares every field).
    this.current = clampKnobs({ noise: knobs.noise ?? this.current.noise, occlusion: knobs.occlusion ?? this.current.occlusion });
    return this.knobs;
  }

  capture(request: { shape: ViewShape }): Promise<Capture> {
    const { height, width, channels } = request.shape;
    if (height !== 32 || width !== 32 || channels !== 3) return Promise.resolve({ skipped: `the scene's cameras shoot 32x32 RGB views; the model takes ${height}x${width}x${channels}` });
    const capturedAt = this.clock();
    const degraded = this.current.noise > 0 || this.current.occlusion > 0;
    const image = degraded
      ? sceneImage(this.scene, capturedAt, this.camera, this.current).image
      : this.cache.frame(`${this.camera}:${sceneFrameKey(this.scene, capturedAt)}`, () => sceneImage(this.scene, capturedAt, this.camera).image);
    if (image === null) return Promise.resolve({ skipped: `camera ${this.camera} does not see the object` });
    return Promise.resolve({ pixels: sceneInput(image), capturedAt });
  }
}

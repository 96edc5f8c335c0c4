import type { CaptureSource } from '@ddnn/ddnn';
import { log } from '../log';
import type { SourceOptions } from '../options';
import { FfmpegSource } from './ffmpeg';
import { FolderSource } from './folder';
import { PushSource } from './push';

export { decodeFrame, toModelInput, type FrameInput, type RawFrame } from './frame';
export { DEFAULT_FFMPEG, FfmpegSource, type FfmpegSourceOptions } from './ffmpeg';
export { FolderSource, type FolderSourceOptions } from './folder';
export { MAX_PUSH_BYTES, PushSource, type PushSourceOptions } from './push';

/** A configured live source with its lifecycle (dataset replay has none: the runtime reads the view itself). */
export interface LiveSource {
  capture: CaptureSource;
  /** Present for --source push: the library call the integrator's code uses. */
  push?: PushSource;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** What the source works around while it still serves (read after each capture), or null. */
  problem?(): string | null;
}

/** Builds the agent's source from its options; `note` receives what the source works around or fails at. */
export function createLiveSource(source: SourceOptions, note: (message: string) => void, pushPort = true): LiveSource | null {
  switch (source.kind) {
    case 'dataset':
      return null;
    case 'folder': {
      const folder = new FolderSource({ dir: source.path, maxFrameAgeMs: source.maxFrameAgeMs, onNote: note });
      return { capture: folder, start: async () => undefined, stop: async () => undefined, problem: () => folder.problem() };
    }
    case 'push': {
      const push = new PushSource({ maxFrameAgeMs: source.maxFrameAgeMs });
      return {
        capture: push,
        push,
        start: async () => {
          if (!pushPort) return;
          const port = await push.listen(source.port);
          // News, not a problem: note() is for what keeps the source from serving.
          log('info', `source push: endpoint listening on http://127.0.0.1:${port}/frames`);
        },
        stop: () => push.close(),
      };
    }
    case 'ffmpeg': {
      const ffmpeg = new FfmpegSource({ url: source.input, fps: source.fps, maxFrameAgeMs: source.maxFrameAgeMs, binary: source.ffmpegPath, onNote: note });
      return { capture: ffmpeg, start: async () => undefined, stop: async () => ffmpeg.stop() };
    }
  }
}

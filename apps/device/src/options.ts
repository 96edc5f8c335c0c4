import path from 'node:path';
import { DEFAULT_CAPTURE_TOLERANCE_MS, type DeviceRole } from '@ddnn/contracts';

/**
 * A deliberate fault for fault drills (`ddnn bench faults`, e2e tests): `garbage` answers every infer with
 * a malformed or implausible reply; `crash` kills the process (SIGKILL, no goodbye) at its Nth infer request.
 */
export type AgentFault = { kind: 'garbage' } | { kind: 'crash'; atRequest: number };

/** A live source's default --max-frame-age-ms: the server's default capture tolerance. */
export const DEFAULT_MAX_FRAME_AGE_MS = DEFAULT_CAPTURE_TOLERANCE_MS;

/** Where an end device's frames come from (see apps/device/README.md). */
export type SourceOptions =
  | { kind: 'dataset' }
  | { kind: 'folder'; path: string; maxFrameAgeMs: number }
  | { kind: 'push'; port: number; maxFrameAgeMs: number }
  | { kind: 'ffmpeg'; input: string; fps: number; maxFrameAgeMs: number; ffmpegPath: string };

export const SOURCE_KINDS = ['dataset', 'folder', 'push', 'ffmpeg'] as const;
const STREAM_PROTOCOLS = ['rtsp:', 'rtsps:', 'rtmp:', 'http:', 'https:', 'udp:', 'tcp:', 'srt:'];

/** What the agent was asked to do, validated. */
export interface AgentOptions {
  server: string;
  profileKey: string | null;
  /** A token an operator issued for this device (rotate-token), replacing the saved one. */
  token: string | null;
  name: string;
  role: DeviceRole;
  view: number | null;
  data: string;
  state: string;
  heartbeatMs: number;
  fault: AgentFault | null;
  source: SourceOptions;
}

export class OptionsError extends Error {}

interface RawOptions {
  server?: string;
  profileKey?: string;
  token?: string;
  name?: string;
  view?: string;
  data?: string;
  role?: string;
  state?: string;
  heartbeatMs?: string;
  fault?: string;
  source?: string;
  sourcePath?: string;
  sourceUrl?: string;
  maxFrameAgeMs?: string;
  fps?: string;
  pushPort?: string;
  ffmpegPath?: string;
}

/** The --source options: each source's own flags, and no flag that another source would read. */
function parseSource(raw: RawOptions, role: DeviceRole, cwd: string, problems: string[]): SourceOptions {
  const kind = raw.source ?? 'dataset';
  if (!(SOURCE_KINDS as readonly string[]).includes(kind)) {
    problems.push(`--source must be one of ${SOURCE_KINDS.join(', ')}, got ${kind}`);
    return { kind: 'dataset' };
  }
  if (role === 'edge' && kind !== 'dataset') problems.push(`--source ${kind} is for end devices: an edge node has no camera`);
  const only = (flag: string, value: unknown, kinds: string[]) => {
    if (value !== undefined && !kinds.includes(kind)) problems.push(`${flag} is only for --source ${kinds.join(' or ')} (this agent's source is ${kind})`);
  };
  only('--source-path', raw.sourcePath, ['folder', 'ffmpeg']);
  only('--source-url', raw.sourceUrl, ['ffmpeg']);
  only('--max-frame-age-ms', raw.maxFrameAgeMs, ['folder', 'push', 'ffmpeg']);
  only('--fps', raw.fps, ['ffmpeg']);
  only('--push-port', raw.pushPort, ['push']);
  only('--ffmpeg-path', raw.ffmpegPath, ['ffmpeg']);
  // The server's default capture tolerance (DDNN_CAPTURE_TOLERANCE_MS): a frame older than that when asked for is
  // refused there as stale anyway, and the agent that passed it on (at 1000) reported no problem while it was.
  const maxFrameAgeMs = raw.maxFrameAgeMs === undefined ? DEFAULT_MAX_FRAME_AGE_MS : Number(raw.maxFrameAgeMs);
  if (!/^\d+$/.test(raw.maxFrameAgeMs ?? String(DEFAULT_MAX_FRAME_AGE_MS)) || maxFrameAgeMs < 1 || maxFrameAgeMs > 3_600_000) {
    problems.push(`--max-frame-age-ms must be an integer 1..3600000, got ${raw.maxFrameAgeMs}`);
  }
  switch (kind) {
    case 'dataset':
      return { kind };
    case 'folder':
      if (!raw.sourcePath) problems.push('--source folder needs --source-path <dir>, the folder the camera writes frames into');
      return { kind, path: path.resolve(cwd, raw.sourcePath ?? '.'), maxFrameAgeMs };
    case 'push': {
      const port = Number(raw.pushPort);
      if (raw.pushPort === undefined) problems.push('--source push needs --push-port <port> (the endpoint listens on 127.0.0.1 only)');
      else if (!/^\d+$/.test(raw.pushPort) || port < 1 || port > 65535) problems.push(`--push-port must be a port 1..65535, got ${raw.pushPort}`);
      return { kind, port, maxFrameAgeMs };
    }
    case 'ffmpeg': {
      let input = '';
      if ((raw.sourcePath === undefined) === (raw.sourceUrl === undefined)) {
        problems.push('--source ffmpeg needs exactly one of --source-path <video file> or --source-url <stream URL>');
      } else if (raw.sourcePath !== undefined) {
        input = path.resolve(cwd, raw.sourcePath);
      } else {
        try {
          const u = new URL(raw.sourceUrl as string);
          if (!STREAM_PROTOCOLS.includes(u.protocol)) problems.push(`--source-url must be a ${STREAM_PROTOCOLS.map((p) => p.slice(0, -1)).join('/')} URL, got ${u.protocol}`);
          input = u.href;
        } catch {
          problems.push(`--source-url must be a stream URL such as rtsp://camera/stream, got ${JSON.stringify(raw.sourceUrl)}`);
        }
      }
      const fps = raw.fps === undefined ? 5 : Number(raw.fps);
      if (!Number.isFinite(fps) || fps <= 0 || fps > 120) problems.push(`--fps must be a number in (0, 120], got ${raw.fps}`);
      return { kind, input, fps, maxFrameAgeMs, ffmpegPath: raw.ffmpegPath ? path.resolve(cwd, raw.ffmpegPath) : '/usr/bin/ffmpeg' };
    }
  }
  return { kind: 'dataset' };
}

/** Checks the command-line options; every problem is named. */
export function parseOptions(raw: RawOptions, cwd = process.cwd()): AgentOptions {
  const problems: string[] = [];
  let server = '';
  try {
    const u = new URL(raw.server ?? '');
    if (u.protocol !== 'http:' && u.protocol !== 'https:') problems.push(`--server must be an http(s) URL, got ${raw.server}`);
    server = u.origin;
  } catch {
    problems.push(`--server must be a URL such as http://localhost:3000, got ${JSON.stringify(raw.server ?? '')}`);
  }
  if (raw.token !== undefined && !/^[\x21-\x7e]{1,200}$/.test(raw.token)) problems.push('--token must be the token rotate-token issued (printable, no spaces)');
  const name = raw.name ?? '';
  if (!/^[\w.-]{1,100}$/.test(name)) problems.push(`--name must be 1-100 letters, digits, _ . -, got ${JSON.stringify(name)}`);
  const role = (raw.role ?? 'end-device') as DeviceRole;
  if (role !== 'end-device' && role !== 'edge') problems.push(`--role must be end-device or edge, got ${raw.role}`);
  let view: number | null = null;
  if (raw.view !== undefined) {
    view = Number(raw.view);
    if (!/^\d+$/.test(raw.view) || view > 255) problems.push(`--view must be an integer 0..255, got ${raw.view}`);
  } else if (role === 'end-device') problems.push('--view is required for an end device (the camera view it serves)');
  const source = parseSource(raw, role, cwd, problems);
  if (role === 'end-device' && source.kind === 'dataset' && !raw.data) {
    problems.push('--data is required for an end device on --source dataset (the folder holding the datasets it reads its view from)');
  }
  const heartbeatMs = raw.heartbeatMs === undefined ? 5000 : Number(raw.heartbeatMs);
  if (!Number.isInteger(heartbeatMs) || heartbeatMs < 100) problems.push(`--heartbeat-ms must be an integer >= 100, got ${raw.heartbeatMs}`);
  let fault: AgentFault | null = null;
  if (raw.fault !== undefined) {
    const crash = /^crash-at:(\d{1,9})$/.exec(raw.fault);
    if (raw.fault === 'garbage') fault = { kind: 'garbage' };
    else if (crash && Number(crash[1]) >= 1) fault = { kind: 'crash', atRequest: Number(crash[1]) };
    else problems.push(`--fault must be garbage or crash-at:<n> (n >= 1), got ${raw.fault}`);
  }
  if (problems.length) throw new OptionsError(problems.join('\n'));
  return {
    server,
    profileKey: raw.profileKey ?? null,
    token: raw.token ?? null,
    name,
    role,
    view,
    data: path.resolve(cwd, raw.data ?? '.'),
    state: path.resolve(cwd, raw.state ?? path.join('.data', 'devices', `${name}.json`)),
    heartbeatMs,
    fault,
    source,
  };
}

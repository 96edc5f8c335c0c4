import path from 'node:path';
import type { DeviceRole } from '@ddnn/contracts';

/**
 * A deliberate fault for fault drills (`ddnn bench faults`, e2e tests): `garbage` answers every infer with
 * a malformed or implausible reply; `crash` kills the process (SIGKILL, no goodbye) at its Nth infer request.
 */
export type AgentFault = { kind: 'garbage' } | { kind: 'crash'; atRequest: number };

/** What the agent was asked to do, validated. */
export interface AgentOptions {
  server: string;
  profileKey: string | null;
  name: string;
  role: DeviceRole;
  view: number | null;
  data: string;
  state: string;
  heartbeatMs: number;
  fault: AgentFault | null;
}

export class OptionsError extends Error {}

interface RawOptions {
  server?: string;
  profileKey?: string;
  name?: string;
  view?: string;
  data?: string;
  role?: string;
  state?: string;
  heartbeatMs?: string;
  fault?: string;
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
  const name = raw.name ?? '';
  if (!/^[\w.-]{1,100}$/.test(name)) problems.push(`--name must be 1-100 letters, digits, _ . -, got ${JSON.stringify(name)}`);
  const role = (raw.role ?? 'end-device') as DeviceRole;
  if (role !== 'end-device' && role !== 'edge') problems.push(`--role must be end-device or edge, got ${raw.role}`);
  let view: number | null = null;
  if (raw.view !== undefined) {
    view = Number(raw.view);
    if (!/^\d+$/.test(raw.view) || view > 255) problems.push(`--view must be an integer 0..255, got ${raw.view}`);
  } else if (role === 'end-device') problems.push('--view is required for an end device (the camera view it serves)');
  if (role === 'end-device' && !raw.data) problems.push('--data is required for an end device (the folder holding the datasets it reads its view from)');
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
    name,
    role,
    view,
    data: path.resolve(cwd, raw.data ?? '.'),
    state: path.resolve(cwd, raw.state ?? path.join('.data', 'devices', `${name}.json`)),
    heartbeatMs,
    fault,
  };
}

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** What an agent keeps between runs: its identity on one server. */
export interface AgentState {
  server: string;
  name: string;
  deviceId: string;
  token: string;
}

/** The saved state, or null when there is none (or it is for another server or name). */
export async function readState(file: string, server: string, name: string): Promise<AgentState | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let s: Partial<AgentState>;
  try {
    s = JSON.parse(text) as Partial<AgentState>;
  } catch {
    throw new Error(`${file}: not valid JSON (delete it to provision again)`);
  }
  if (s.server !== server || s.name !== name || typeof s.deviceId !== 'string' || typeof s.token !== 'string') return null;
  return s as AgentState;
}

/** Saves the state atomically, readable by this user only (it holds the device token). */
export async function writeState(file: string, state: AgentState): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
}

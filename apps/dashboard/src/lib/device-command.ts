/** Where `npm start` writes the datasets, relative to the repository root (the README's agent command). */
export const DEFAULT_AGENT_DATA_DIR = '.data/datasets';

/** Quotes a shell word when it holds anything but safe characters. */
function sh(word: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The exact device-agent command an operator copies to connect a new device: the README's, run from the
 * repository root, where `npm start` keeps its datasets under .data/datasets. The provisioning key goes in the
 * environment (DDNN_PROFILE_KEY), where other local users cannot read it with `ps`, as they can a flag.
 */
export function deviceAgentCommand(o: { server: string; profileKey: string; name: string; view: string; role: 'end-device' | 'edge'; dataDir?: string }): string {
  const parts = ['npm', 'run', '-s', 'device', '--', '--server', o.server, '--name', o.name || 'cam-0'];
  if (o.role === 'edge') parts.push('--role', 'edge');
  else parts.push('--view', o.view || '0');
  parts.push('--data', o.dataDir || DEFAULT_AGENT_DATA_DIR);
  return `DDNN_PROFILE_KEY=${sh(o.profileKey)} ${parts.map(sh).join(' ')}`;
}

import type { ExitTier, SessionView } from '@ddnn/contracts';
import { accuracyHalfWidth } from './compare';
import { fmtBytes, fmtPct } from './format';
import { livePolicyLabel } from './policy';

/** One row of a side-by-side comparison of two runs; `differs` marks the rows to highlight (as MLflow does). */
export interface RunDiffRow {
  group: 'settings' | 'outcome';
  label: string;
  a: string;
  b: string;
  differs: boolean;
}

const TIERS: ExitTier[] = ['local', 'edge', 'cloud'];
const orNone = (x: number | null | undefined, unit = '') => (x === null || x === undefined ? 'none' : `${x}${unit}`);

/** A run's recorded settings as text, one entry per row (the SessionStarted spec and its configuration). */
function settings(s: SessionView): [string, string][] {
  const c = s.configuration;
  const names = new Map((c?.devices ?? []).map((d) => [d.deviceId, `${d.name}${d.simulated ? ' (sim)' : ''}`]));
  const devices = [...s.topology.devices]
    .sort((x, y) => x.view - y.view)
    .map((d) => `view ${d.view}: ${names.get(d.deviceId) ?? d.deviceId}${d.edge ? ` via ${d.edge}` : ''}`)
    .join(', ');
  return [
    ['name', s.name || '–'],
    ['tags', [...s.tags].sort().join(', ') || '–'],
    ['model', s.modelId],
    ['dataset', s.dataset],
    ['split', s.split],
    ['policy', livePolicyLabel(s.policy)],
    ['mode', s.mode],
    ['rate', s.rate === null ? 'as fast as possible' : `${s.rate} samples/s`],
    ['limit', orNone(s.limit, ' samples')],
    ['deadline', `${s.deadlineMs} ms`],
    ['devices', devices || '–'],
    ['edges', (s.topology.edges ?? []).map((e) => `${e.name}: ${e.deviceId === null ? 'simulated' : (names.get(e.deviceId) ?? e.deviceId)}`).join(', ') || '–'],
    ['link model', c === null ? 'not recorded' : c.link === null ? 'none' : `${c.link.latencyMs} ms + ${c.link.bandwidthKbps} kbit/s`],
    ['failures', c === null ? 'not recorded' : c.failures.map((f) => `device ${f.device} ${f.kind} at sample ${f.atSample}`).join(', ') || 'none'],
  ];
}

/** A run's outcomes as text: accuracy with its 95% interval, the exit rate of each tier, bytes per sample. */
function outcomes(s: SessionView): [string, string][] {
  const m = s.summary;
  const accuracy = () => {
    if (!m || m.accuracy === null) return '–';
    const half = accuracyHalfWidth(m.accuracy, m.labelled);
    return `${fmtPct(m.accuracy)}${half === null ? '' : ` ± ${(100 * half).toFixed(1)} pts`} (${m.labelled} labelled)`;
  };
  const rate = (t: ExitTier) => (!m || m.samplesDecided === 0 ? '–' : fmtPct(m.exits[t].exited / m.samplesDecided));
  return [
    ['status', s.status],
    ['samples decided', m ? `${m.samplesDecided}${s.sampleCount === null ? '' : ` of ${s.sampleCount}`}` : '–'],
    ['accuracy', accuracy()],
    ...TIERS.map((t): [string, string] => [`${t} exits`, rate(t)]),
    ['bytes per sample', m?.bytes.perSample == null ? '–' : fmtBytes(m.bytes.perSample)],
  ];
}

/** The rows comparing runs `a` and `b`: settings first, then outcomes; a row differs when its text does. */
export function runDiff(a: SessionView, b: SessionView): RunDiffRow[] {
  const rows = (group: RunDiffRow['group'], x: [string, string][], y: [string, string][]) =>
    x.map(([label, va], i): RunDiffRow => ({ group, label, a: va, b: y[i][1], differs: va !== y[i][1] }));
  return [...rows('settings', settings(a), settings(b)), ...rows('outcome', outcomes(a), outcomes(b))];
}

import { type ExitDecided, type SectionEvaluated, type StoredEvent, storedEvents as stored } from '@ddnn/contracts';

/**
 * Three finished samples, two devices, two classes, no edge; sizes scores 8, features 16, raw 100. Sections are one
 * SectionEvaluated each, as logs written before SectionsEvaluated hold them (every reader reads both shapes).
 * s0: both answer, local confident and right.  s1: dev-1 times out at scores; local eta exactly 0.5.
 * s2: dev-0 fails to send features; local wrong, cloud right.  s3: started, never finished (aborted).
 */
export function tinySession(mode: 'research' | 'production' = 'research'): StoredEvent[] {
  const sessionId = 'tiny';
  const sec = (sampleIndex: number, tier: 'device' | 'local' | 'cloud', node: string, probabilities: number[], entropy: number, latencyMs: number, shadow = false): ['SectionEvaluated', SectionEvaluated] =>
    ['SectionEvaluated', { sessionId, sampleIndex, tier, node, probabilities, entropy, latencyMs, shadow }];
  const exit = (sampleIndex: number, tier: 'local' | 'cloud', exited: boolean, label: number, shadow = false): ['ExitDecided', ExitDecided] =>
    ['ExitDecided', { sessionId, sampleIndex, tier, eta: 0, threshold: tier === 'cloud' ? null : 0.5, policy: 'entropy', exited, prediction: 0, label, shadow }];
  return stored([
    ['SessionStarted', {
      sessionId, modelId: 'm', dataset: 'd', split: 'test', classes: ['a', 'b'], sampleCount: 4,
      topology: { devices: [{ deviceId: 'dev-0', view: 0 }, { deviceId: 'dev-1', view: 1 }] },
      policy: { kind: 'entropy', thresholds: { local: 0.5 } }, mode, deadlineMs: 200,
      messageSizes: { scoresBytes: 8, featuresBytes: 16, rawBytes: 100 },
    }],
    ['SampleStarted', { sessionId, sampleIndex: 0, sampleId: 's0', label: 0 }],
    sec(0, 'device', 'dev-0', [0.7, 0.3], 0.88, 2),
    sec(0, 'device', 'dev-1', [0.6, 0.4], 0.97, 3),
    sec(0, 'local', 'local', [0.9, 0.1], 0.2, 1),
    exit(0, 'local', true, 0),
    sec(0, 'cloud', 'cloud', [0.8, 0.2], 0.3, 5, true),
    ['SampleStarted', { sessionId, sampleIndex: 1, sampleId: 's1', label: 1 }],
    sec(1, 'device', 'dev-0', [0.5, 0.5], 1, 2),
    ['DeviceMissed', { sessionId, sampleIndex: 1, deviceId: 'dev-1', view: 1, stage: 'scores', deadlineMs: 200, reason: 'timeout' }],
    sec(1, 'local', 'local', [0.6, 0.4], 0.5, 1),
    exit(1, 'local', false, 1),
    sec(1, 'cloud', 'cloud', [0.3, 0.7], 0.4, 5),
    exit(1, 'cloud', true, 1),
    ['SampleStarted', { sessionId, sampleIndex: 2, sampleId: 's2', label: 1 }],
    sec(2, 'device', 'dev-0', [0.5, 0.5], 1, 2),
    sec(2, 'device', 'dev-1', [0.4, 0.6], 0.97, 3),
    sec(2, 'local', 'local', [0.55, 0.45], 0.9, 1),
    exit(2, 'local', false, 1),
    ['DeviceMissed', { sessionId, sampleIndex: 2, deviceId: 'dev-0', view: 0, stage: 'features', deadlineMs: 200, reason: 'error' }],
    sec(2, 'cloud', 'cloud', [0.2, 0.8], 0.4, 5),
    exit(2, 'cloud', true, 1),
    ['SampleStarted', { sessionId, sampleIndex: 3, sampleId: 's3', label: 0 }],
    sec(3, 'device', 'dev-0', [0.5, 0.5], 1, 2),
  ]).filter((e) => !(mode === 'production' && e.type === 'SectionEvaluated' && e.data.shadow));
}

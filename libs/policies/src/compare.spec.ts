import type { PolicySpec } from '@ddnn/contracts';
import { comparePolicies } from './compare';
import { sessionSamplesFromEvents } from './session-table';
import { syntheticSessionEvents } from './synthetic';

describe('comparePolicies', () => {
  it('evaluates every policy on every session and marks each session frontier', () => {
    const research = sessionSamplesFromEvents(syntheticSessionEvents({ sessionId: 'r', samples: 300, seed: 1 }));
    const production = sessionSamplesFromEvents(syntheticSessionEvents({ sessionId: 'p', samples: 300, seed: 1, mode: 'production', thresholds: { local: 0.8 } }));
    const policies: PolicySpec[] = [
      { kind: 'always-local' },
      { kind: 'always-cloud' },
      { kind: 'raw-offload' },
      { kind: 'entropy', thresholds: { local: 0.9 } },
    ];
    const rows = comparePolicies([research, production], policies);
    expect(rows.map((r) => `${r.sessionId}:${r.label}:${r.evaluable}`)).toEqual([
      'r:always-local:true', 'r:always-cloud:true', 'r:raw-offload:true', 'r:entropy T=0.9:true',
      'p:always-local:true', 'p:always-cloud:false', 'p:raw-offload:false', 'p:entropy T=0.9:true',
    ]);
    // Raw offload answers like always-cloud with far more bytes: dominated. Always-local is the cheapest.
    const r = rows.slice(0, 4);
    expect(r[2].dominated).toBe(true);
    expect(r[0].dominated).toBe(false);
    expect(rows[5].dominated).toBeUndefined();
  });
});

import { UpcastError } from './errors';
import { Upcasters } from './upcasting';

describe('Upcasters', () => {
  const versions = { SessionAborted: 3, SessionCompleted: 1 };
  const chain = new Upcasters(
    [
      { type: 'SessionAborted', fromVersion: 1, upcast: (d) => ({ ...(d as object), reason: (d as { why: string }).why }) },
      { type: 'SessionAborted', fromVersion: 2, upcast: (d) => ({ ...(d as object), samplesDone: 0 }) },
    ],
    versions,
  );

  it('chains upcasters from the stored version to the current one', () => {
    expect(chain.upcast('SessionAborted', 1, { sessionId: 's', why: 'operator' })).toEqual({
      sessionId: 's',
      why: 'operator',
      reason: 'operator',
      samplesDone: 0,
    });
    expect(chain.upcast('SessionAborted', 2, { sessionId: 's', reason: 'x' })).toEqual({ sessionId: 's', reason: 'x', samplesDone: 0 });
    const current = { sessionId: 's', reason: 'x', samplesDone: 4 };
    expect(chain.upcast('SessionAborted', 3, current)).toBe(current);
  });

  it('refuses missing links, newer versions and unknown types with errors naming them', () => {
    expect(() => new Upcasters([], versions).upcast('SessionAborted', 1, {})).toThrow(/no upcaster for SessionAborted from schema version 1/);
    expect(() => chain.upcast('SessionCompleted', 2, {})).toThrow(UpcastError);
    expect(() => chain.upcast('SessionCompleted', 2, {})).toThrow(/newer than this code's version 1/);
    expect(() => chain.upcast('Nope', 1, {})).toThrow(/unknown event type 'Nope'/);
  });
});

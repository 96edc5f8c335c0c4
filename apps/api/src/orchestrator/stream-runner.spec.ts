import { emptySessionSummary, sampleSections, foldSessionSummary, storedEventBuilder, type InferReply, type InferRequest, type NewEvent, type StreamSpec } from '@ddnn/contracts';
import { scoresToBytes, softmax as softmax32 } from '@ddnn/ddnn';
import { FencedAppendError } from '@ddnn/events';
import type { SessionModel } from './session-runner';
import { matchCapture, onServerClock, runStream, streamWindow, type StreamRunnerDeps } from './stream-runner';

const spec: StreamSpec = {
  modelId: 'm',
  topology: { devices: [0, 1].map((v) => ({ deviceId: `dev-${v}`, view: v })) },
  policy: { kind: 'entropy', thresholds: { local: 0.5 } },
  rate: 50,
  deadlineMs: 200,
};

const model: SessionModel = {
  modelId: 'm',
  classes: ['a', 'b', 'c'],
  deviceViews: [0, 1],
  edges: [],
  messageSizes: { scoresBytes: 12, featuresBytes: 128, rawBytes: 3072 },
  sections: {
    local: (s) => Array.from(softmax32([...s.values()][0])),
    edgeViews: () => [],
    edge: () => {
      throw new Error('no edge');
    },
    cloud: async () => ({ probabilities: [0.01, 0.01, 0.98], latencyMs: 1 }),
  },
};

/** The clock of triggers and device captures (fixed: offsets are what matter). */
const clock = 1_800_000_000_000;

function fakeDeps(over: Partial<StreamRunnerDeps> = {}, captureOffset: (deviceId: string, index: number) => number = () => 0) {
  const appended: NewEvent[][] = [];
  const finished: unknown[][] = [];
  let stopAfter = Infinity;
  const deps: StreamRunnerDeps = {
    requester: {
      request: async (id: string, req: InferRequest): Promise<InferReply> =>
        req.stage === 'scores'
          ? { ok: true, scores: scoresToBytes(Float32Array.from(req.sampleIndex % 2 ? [9, 0, 0] : [0.1, 0, 0])), latencyMs: 1, capturedAt: clock + captureOffset(id, req.sampleIndex) }
          : { ok: true, features: new Uint8Array(128), latencyMs: 1 },
    },
    loadModel: async () => model,
    loadReplay: async () => ({ classes: ['a', 'b', 'c'], sampleIds: ['x', 'y'] }),
    deploy: async () => undefined,
    sink: () => ({ append: async (e) => void appended.push(e) }),
    logged: async () => ({ started: false, samples: 0, lastIndex: null, lastTriggeredAt: null }),
    setProgress: async () => undefined,
    markRunning: async () => undefined,
    // Samples answered, not ExitDecided events: a sample sent up to the cloud logs two (under load the first stop
    // poll came with 12 decisions of 11 samples).
    shouldStop: async () => (appended.flat().filter((e) => e.type === 'ExitDecided' && e.data.exited && !e.data.shadow).length >= stopAfter ? 'stop' : null),
    finish: async (...args) => void finished.push(args),
    connectedDevices: async () => ['dev-0', 'dev-1'].map((deviceId) => ({ deviceId, connectionId: deviceId })),
    deviceWaitMs: 1000,
    window: 4,
    captureToleranceMs: 100,
    now: () => clock,
    ...over,
  };
  return { deps, appended, finished, stopAfterDecisions: (n: number) => (stopAfter = n) };
}

describe('matchCapture', () => {
  const ok: InferReply = { ok: true, scores: new Uint8Array(12), latencyMs: 1, capturedAt: 1000 };
  it('passes a capture within the tolerance of its trigger, either side', () => {
    expect(matchCapture(ok, 1100, 100)).toBe(ok);
    expect(matchCapture(ok, 900, 100)).toBe(ok);
  });
  it('turns a stale or late capture into a skipped capture saying by how much', () => {
    expect(matchCapture(ok, 1500, 100)).toEqual({ ok: false, skipped: true, cause: 'source', error: 'stale capture: captured 500 ms before the trigger (tolerance 100 ms)' });
    expect(matchCapture(ok, 700, 100)).toMatchObject({ skipped: true, error: expect.stringMatching(/300 ms after the trigger/) });
  });
  it('leaves failures and replies without a capture time alone', () => {
    const failed: InferReply = { ok: false, error: 'x' };
    expect(matchCapture(failed, 0, 1)).toBe(failed);
    const noTime: InferReply = { ok: true, scores: new Uint8Array(12), latencyMs: 1 };
    expect(matchCapture(noTime, 99_999, 1)).toBe(noTime);
  });
});

describe('onServerClock', () => {
  const reply = (capturedAt: number, repliedAt?: number): InferReply => ({ ok: true, scores: new Uint8Array(12), latencyMs: 1, capturedAt, ...(repliedAt === undefined ? {} : { repliedAt }) });

  it("takes out what of a device clock's offset the round trip makes certain", () => {
    // Sent at 10_000, back at 10_040 (server clock); the device replied at 15_020 on its own: at least 4980 ms ahead.
    const { reply: timed, clockOffsetMs } = onServerClock(reply(14_990, 15_020), 10_000, 10_040);
    expect(clockOffsetMs).toBe(4980);
    expect(timed).toMatchObject({ capturedAt: 10_010 });
    // Behind: it replied at 9_900 on its clock, before the request left at 10_000 on the server's: at least 100 ms behind.
    expect(onServerClock(reply(9_850, 9_900), 10_000, 10_060)).toMatchObject({ clockOffsetMs: -100, reply: { capturedAt: 9_950 } });
    // The corrected capture matches its trigger; the same capture as reported would have been stale.
    expect(matchCapture(timed, 10_000, 500, clockOffsetMs)).toBe(timed);
    expect(matchCapture(reply(14_990), 10_000, 500)).toMatchObject({ skipped: true });
  });

  it('leaves a device in sync, a slow one whose reply is stamped late in the round trip, an older agent and a failure as they are', () => {
    const inSync = reply(10_010, 10_045);
    expect(onServerClock(inSync, 10_000, 10_100)).toEqual({ reply: inSync, clockOffsetMs: 0 });
    // 20 ms ahead, 400 ms of inference: stamped 10_420 device time, received at 10_402. Taking out half the round
    // trip (the midpoint rule) would have moved it by 219 ms, ten times its real error.
    const slow = reply(10_020, 10_420);
    expect(onServerClock(slow, 10_000, 10_402)).toEqual({ reply: { ...slow, capturedAt: 10_002 }, clockOffsetMs: 18 });
    const older = reply(99_999);
    expect(onServerClock(older, 10_000, 10_010)).toEqual({ reply: older, clockOffsetMs: 0 });
    const failed: InferReply = { ok: false, error: 'x' };
    expect(onServerClock(failed, 0, 1)).toEqual({ reply: failed, clockOffsetMs: 0 });
  });

  it('says the offset it took out when the capture is stale all the same', () => {
    const { reply: timed, clockOffsetMs } = onServerClock(reply(12_000, 15_020), 10_000, 10_040);
    expect(matchCapture(timed, 10_000, 500, clockOffsetMs)).toMatchObject({
      skipped: true,
      error: "stale capture: captured 2980 ms before the trigger (tolerance 500 ms; the device clock is 4980 ms ahead of the server's, taken out)",
    });
  });
});

describe('runStream', () => {
  it('runs until stopped: StreamStarted, samples with increasing indices and trigger times, then SessionCompleted', async () => {
    const { deps, appended, finished, stopAfterDecisions } = fakeDeps();
    stopAfterDecisions(12);
    const stats = await runStream('r1', spec, deps);
    expect(stats.status).toBe('stopped');
    expect(appended[0].map((e) => e.type)).toEqual(['StreamStarted']);
    expect(appended.at(-1)!.map((e) => e.type)).toEqual(['SessionCompleted']);
    const started = appended.flat().filter((e) => e.type === 'SampleStarted');
    expect(started.length).toBeGreaterThanOrEqual(12);
    // Samples in flight commit in any order; together they are every index from 0, each once.
    expect(started.map((e) => e.data.sampleIndex).sort((a, b) => a - b)).toEqual(started.map((_, i) => i));
    for (const e of started) expect(e.data).toMatchObject({ label: null, triggeredAt: clock, sampleId: `live-${e.data.sampleIndex}` });
    expect(finished[0]).toEqual(['r1', 'stopped', started.length, undefined, expect.objectContaining({ samples: started.length })]);
    // Every sample has exactly one answering exit.
    const stored = storedEventBuilder({ streamId: 'stream-r1' });
    const summary = appended.flat().map((e) => stored(e)).reduce(foldSessionSummary, emptySessionSummary('r1'));
    expect(summary).toMatchObject({ kind: 'stream', samplesStarted: started.length, samplesDecided: started.length, missed: 0, status: 'completed' });
  });

  it('paces triggers at the rate', async () => {
    const { deps, appended, stopAfterDecisions } = fakeDeps();
    stopAfterDecisions(10);
    const t0 = performance.now();
    await runStream('r2', { ...spec, rate: 20 }, deps);
    const n = appended.flat().filter((e) => e.type === 'SampleStarted').length;
    // n triggers at 20/s take at least (n - 1) periods of 50 ms.
    expect(performance.now() - t0).toBeGreaterThanOrEqual((n - 1) * 50 - 5);
  });

  it('keeps half a second of samples in flight: slow replies do not drop triggers below the rate', async () => {
    expect(streamWindow(32, 50)).toBe(32);
    expect(streamWindow(32, 1000)).toBe(500);
    // Replies take 100 ms: at 100/s ten samples are in flight, more than the configured window of 4 (which alone
    // would hold ~40 triggers a second).
    const { deps, appended } = fakeDeps({ window: 4 });
    const reply = deps.requester.request.bind(deps.requester);
    let inFlight = 0;
    let maxInFlight = 0;
    deps.requester.request = async (id, req, timeoutMs) => {
      const counted = id === 'dev-0' && req.stage === 'scores';
      if (counted) maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setTimeout(r, 100));
      if (counted) inFlight--;
      return reply(id, req, timeoutMs);
    };
    const rate = 100;
    let t0 = 0;
    let stopAt = Infinity;
    deps.shouldStop = async () => (performance.now() >= stopAt ? 'stop' : null);
    deps.markRunning = async () => {
      t0 = performance.now();
      stopAt = t0 + 1000;
    };
    await runStream('r6', { ...spec, rate, deadlineMs: 1000 }, deps);
    const started = appended.flat().filter((e) => e.type === 'SampleStarted').length;
    expect(started).toBeGreaterThanOrEqual(0.7 * rate * ((stopAt - t0) / 1000));
    expect(maxInFlight).toBeGreaterThan(4);
  });

  it('counts every trigger a full window gave up, fractions of a period included', async () => {
    // Replies take 1.03 s at 20/s: the window of 10 frees a slot 30 ms after each trigger is due, less than a period
    // (50 ms), so counting each wait's whole periods counted nothing while a trigger in 21 never fired.
    const logs: string[] = [];
    const { deps, appended } = fakeDeps({ window: 4, log: (m) => logs.push(m) });
    const reply = deps.requester.request.bind(deps.requester);
    deps.requester.request = async (id, req, timeoutMs) => {
      if (req.stage === 'scores') await new Promise((r) => setTimeout(r, 1030));
      return reply(id, req, timeoutMs);
    };
    const rate = 20;
    let t0 = 0;
    let stopAt = Infinity;
    deps.shouldStop = async () => (performance.now() >= stopAt ? 'stop' : null);
    deps.markRunning = async () => {
      t0 = performance.now();
      stopAt = t0 + 3500;
    };
    await runStream('r8', { ...spec, rate, deadlineMs: 5000 }, deps);
    const triggered = appended.flat().filter((e) => e.type === 'SampleStarted').length;
    const missed = appended.flat().reduce((n, e) => n + (e.type === 'StreamGap' ? e.data.missedTriggers : 0), 0);
    const owed = (rate * (stopAt - t0)) / 1000;
    expect(missed).toBeGreaterThan(0);
    // Every trigger the schedule owed either fired or is counted (give or take the stop's edge).
    expect(Math.abs(triggered + missed - owed)).toBeLessThanOrEqual(4);
  }, 20_000);

  it('keeps its rate when a busy event loop fires its timers late', async () => {
    const { deps, appended } = fakeDeps({ window: 32 });
    const rate = 200;
    let t0 = 0;
    let stopAt = Infinity;
    deps.shouldStop = async () => (performance.now() >= stopAt ? 'stop' : null);
    // Other work holds the event loop for 15 ms every 30 ms: the trigger's timer (5 ms period) wakes up to 15 ms late.
    const hog = setInterval(() => {
      if (!t0) return;
      const until = performance.now() + 15;
      while (performance.now() < until);
    }, 30);
    deps.markRunning = async () => {
      t0 = performance.now();
      stopAt = t0 + 1500;
    };
    try {
      await runStream('r5', { ...spec, rate }, deps);
    } finally {
      clearInterval(hog);
    }
    const started = appended.flat().filter((e) => e.type === 'SampleStarted').length;
    const seconds = (stopAt - t0) / 1000;
    // Dropping each late wake-up from the schedule triggered ~60% of the rate here.
    expect(started).toBeGreaterThanOrEqual(0.85 * rate * seconds);
    expect(started).toBeLessThanOrEqual(rate * seconds + rate * 0.5);
  });

  /** Runs `spec` at `rate` for `ms` from markRunning while `stalls` hold the event loop; the triggers, the log and the seconds it ran. */
  async function stalled(rate: number, ms: number, stalls: { at: number; ms: number }[]) {
    const logs: string[] = [];
    const { deps, appended } = fakeDeps({ window: 32, log: (m) => logs.push(m) });
    let t0 = 0;
    let halt: (h: 'stop') => void = () => undefined;
    deps.shouldStop = async () => null;
    deps.watchStop = async (_id, onHalt) => {
      halt = onHalt;
      return () => undefined;
    };
    const timers: NodeJS.Timeout[] = [];
    deps.markRunning = async () => {
      t0 = performance.now();
      timers.push(setTimeout(() => halt('stop'), ms));
      for (const s of stalls) {
        timers.push(
          setTimeout(() => {
            const until = performance.now() + s.ms;
            while (performance.now() < until);
          }, s.at),
        );
      }
    };
    try {
      await runStream('r7', { ...spec, rate }, deps);
    } finally {
      timers.forEach(clearTimeout);
    }
    const gaps = appended.flat().flatMap((e) => (e.type === 'StreamGap' ? [e.data] : []));
    return { started: appended.flat().filter((e) => e.type === 'SampleStarted').length, logs, gaps, seconds: (performance.now() - t0) / 1000 };
  }

  it('drops what a longer stall held back, and says how many, in its log too', async () => {
    // 450 ms held at 200/s: 90 triggers late, the last 250 ms of them (50) made up, ~40 dropped.
    const { started, logs, gaps, seconds } = await stalled(200, 1200, [{ at: 300, ms: 450 }]);
    expect(started).toBeLessThanOrEqual(200 * seconds - 25);
    const report = logs.find((m) => /triggers dropped/.test(m));
    expect(report).toMatch(/^stream r7: \d+ triggers dropped in the last \d+ s \(0 while the window of 100 samples was full, \d+ after stalls over 250 ms\)$/);
    const n = Number(/: (\d+) triggers/.exec(report as string)?.[1]);
    expect(n).toBeGreaterThanOrEqual(30);
    expect(n).toBeLessThanOrEqual(50);
    // One StreamGap at the stream's end (a report comes a minute after the first drop at most), the same count, the
    // next index after the last sample, and the span when the dropped triggers were due: ~200 ms of the 450 ms stall.
    expect(gaps).toEqual([{ sessionId: 'r7', cause: 'stall', from: expect.any(Number), to: expect.any(Number), missedTriggers: n, nextSample: started }]);
    const span = gaps[0].to - gaps[0].from;
    expect(span).toBeGreaterThanOrEqual((n - 1) * 5);
    expect(span).toBeLessThan(450);
  });

  it('stops on its watch at once, polling shouldStop only as the fallback', async () => {
    const { deps, appended } = fakeDeps();
    let polls = 0;
    deps.shouldStop = async () => (polls++, null);
    let halt: (h: 'stop' | 'lost') => void = () => undefined;
    let cancelled = 0;
    deps.watchStop = async (_id, onHalt) => {
      halt = onHalt;
      return () => void cancelled++;
    };
    const run = runStream('r8', spec, deps);
    await new Promise((r) => setTimeout(r, 1200));
    const t = performance.now();
    halt('stop');
    const stats = await run;
    expect(stats.status).toBe('stopped');
    expect(performance.now() - t).toBeLessThan(200);
    // The first poll, and the one once the watch is up; never every 250 ms.
    expect(polls).toBeLessThanOrEqual(2);
    expect(cancelled).toBe(1);
    expect(appended.at(-1)?.map((e) => e.type)).toEqual(['SessionCompleted']);
  });

  it('ends a run its watch says is lost without completing it', async () => {
    const { deps, appended, finished } = fakeDeps();
    deps.shouldStop = async () => null;
    deps.watchStop = async (_id, onHalt) => {
      setTimeout(() => onHalt('lost'), 300);
      return () => undefined;
    };
    const stats = await runStream('r9', spec, deps);
    expect(stats.status).toBe('lost');
    expect(appended.flat().map((e) => e.type)).not.toContain('SessionCompleted');
    expect(finished).toEqual([]);
  });

  it('ends as lost, neither failed nor completed, once its fence refuses a sample; the samples refused are dropped and counted', async () => {
    const { deps, appended, finished } = fakeDeps();
    const logs: string[] = [];
    deps.log = (m) => logs.push(m);
    deps.shouldStop = async () => null;
    // Another node took the stream over at sample 10: this sample and every one after it are refused.
    let fenced = false;
    deps.sink = () => ({
      append: async (events) => {
        if (events[0].type === 'SampleStarted' && (events[0].data as { sampleIndex: number }).sampleIndex === 10) fenced = true;
        if (fenced) throw new FencedAppendError('stream-r10', 1, 2);
        appended.push(events);
      },
    });
    const stats = await runStream('r10', spec, deps);
    expect(stats.status).toBe('lost');
    expect(stats.error).toBeUndefined();
    expect(finished).toEqual([]);
    const types = appended.flat().map((e) => e.type);
    expect(types).not.toContain('SessionCompleted');
    expect(types).not.toContain('SessionAborted');
    const dropped = logs.flatMap((m) => /^stream r10: (\d+) sample\(s\) dropped: another node owns the run now/.exec(m)?.[1] ?? []).map(Number);
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toBeGreaterThanOrEqual(1);
    // Only what was logged counts as done.
    expect(stats.samples).toBe(appended.filter((b) => b[0].type === 'SampleStarted').length);
  });

  it('ends as lost when its fence refuses StreamStarted (taken over before its first sample)', async () => {
    const { deps, finished } = fakeDeps();
    deps.sink = () => ({
      append: async () => {
        throw new FencedAppendError('stream-r11', 1, 2);
      },
    });
    const stats = await runStream('r11', spec, deps);
    expect(stats.status).toBe('lost');
    expect(finished).toEqual([]);
  });

  it('resumes after the highest logged index without logging StreamStarted again, and logs the outage', async () => {
    // The last sample was triggered 12.5 s before the resumed stream's first: 249 triggers at 20/s never fired.
    const { deps, appended, stopAfterDecisions } = fakeDeps({ logged: async () => ({ started: true, samples: 40, lastIndex: 41, lastTriggeredAt: clock - 12_500 }) });
    stopAfterDecisions(3);
    await runStream('r3', spec, deps);
    const types = appended.flat().map((e) => e.type);
    expect(types).not.toContain('StreamStarted');
    const first = appended.flat().find((e) => e.type === 'SampleStarted');
    expect(first?.data).toMatchObject({ sampleIndex: 42 });
    expect(appended.flat().filter((e) => e.type === 'StreamGap').map((e) => e.data)).toEqual([
      { sessionId: 'r3', cause: 'outage', from: clock - 12_500, to: clock, missedTriggers: 12.5 * spec.rate - 1, nextSample: 42 },
    ]);
  });

  it('logs no outage on its first start, nor when resumed before any sample was logged', async () => {
    for (const logged of [
      { started: false, samples: 0, lastIndex: null, lastTriggeredAt: null },
      { started: true, samples: 0, lastIndex: null, lastTriggeredAt: null },
    ]) {
      const { deps, appended, stopAfterDecisions } = fakeDeps({ logged: async () => logged });
      stopAfterDecisions(2);
      await runStream('r4', spec, deps);
      expect(appended.flat().filter((e) => e.type === 'StreamGap')).toEqual([]);
    }
  });

  it('logs a capture outside the tolerance as a skipped DeviceMissed (stale capture), the sample decided without it', async () => {
    const { deps, appended, stopAfterDecisions } = fakeDeps({}, (id) => (id === 'dev-1' ? -5000 : 10));
    stopAfterDecisions(4);
    await runStream('r4', spec, deps);
    const missed = appended.flat().filter((e) => e.type === 'DeviceMissed');
    const samples = appended.flat().filter((e) => e.type === 'SampleStarted').length;
    expect(missed).toHaveLength(samples);
    for (const m of missed) expect(m.data).toMatchObject({ deviceId: 'dev-1', reason: 'skipped', detail: expect.stringMatching(/^stale capture: captured 5000 ms before/) });
    const evaluated = appended.flat().flatMap((e) => sampleSections(e)?.sections ?? []).filter((s) => s.tier === 'device');
    expect(evaluated).toHaveLength(samples);
    expect(evaluated.every((s) => s.node === 'dev-0' && s.capturedAt === clock + 10)).toBe(true);
  });

  it('asks devices without a live source for the replayed split, sample i -> i mod n', async () => {
    const asked: string[] = [];
    const base = fakeDeps();
    const { deps, stopAfterDecisions } = fakeDeps({
      requester: {
        request: async (id, req, t) => {
          if (req.stage === 'scores' && id === 'dev-0') asked.push(`${req.dataset}/${req.sampleId}`);
          return base.deps.requester.request(id, req, t);
        },
      },
    });
    stopAfterDecisions(3);
    await runStream('r5', { ...spec, replay: { dataset: 'synth', split: 'test' } }, deps);
    expect(asked.slice(0, 3)).toEqual(['synth/x', 'synth/y', 'synth/x']);
  });

  it('fails with SessionAborted when the model cannot serve the topology', async () => {
    const { deps, appended, finished } = fakeDeps();
    const stats = await runStream('r6', { ...spec, topology: { devices: [{ deviceId: 'dev-9', view: 7 }] } }, deps);
    expect(stats.status).toBe('failed');
    expect(appended.flat().map((e) => e.type)).toEqual(['SessionAborted']);
    expect(finished[0]).toEqual(['r6', 'failed', 0, expect.stringMatching(/view 7/)]);
  });
});

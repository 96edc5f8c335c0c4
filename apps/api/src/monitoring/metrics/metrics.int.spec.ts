import { streamIds, type LinkMessage, type MetricSeries, type NewEvent, type RunWindowTotals, type SectionOutput } from '@ddnn/contracts';
import { waitFor } from '@ddnn/testing';
import { Database } from '../../database/database';
import { call, startTestApi, type TestApi } from '../../../test/devices/test-app';
import { MetricsRepository } from './metrics.repository';
import { MetricsService } from './metrics.service';

const TOKEN = 'test-operator-token';

/**
 * One run's events: per sample, three devices answer (or dev1 misses every 5th), the local exit answers easy
 * samples (confident, right 9 times in 10) and the cloud the rest (less confident, right 7 times in 10).
 */
function runEvents(runId: string, samples: number, labelled: boolean, dev1Broken = false): { events: NewEvent[][]; correct: number; localExits: number; cloudCorrect: number; dev1Agreement: number } {
  const events: NewEvent[][] = [];
  let correct = 0;
  let localExits = 0;
  let cloudCorrect = 0;
  let dev1Answered = 0;
  let dev1Agreed = 0;
  for (let i = 0; i < samples; i++) {
    const label = i % 3;
    const easy = i % 4 !== 3;
    const right = easy ? i % 10 !== 0 : i % 10 < 7;
    const prediction = right ? label : (label + 1) % 3;
    if (right) correct++;
    if (easy) localExits++;
    else if (right) cloudCorrect++;
    const out: NewEvent[] = [{ type: 'SampleStarted', data: { sessionId: runId, sampleIndex: i, sampleId: `x${i}`, label: labelled ? label : null } }];
    const sections: SectionOutput[] = [];
    const messages: LinkMessage[] = [];
    for (const [d, deviceId] of ['dev0', 'dev1', 'dev2'].entries()) {
      if (deviceId === 'dev1' && i % 5 === 0) {
        out.push({ type: 'DeviceMissed', data: { sessionId: runId, sampleIndex: i, deviceId, view: d, stage: 'scores', deadlineMs: 100, reason: 'timeout' } });
        continue;
      }
      if (deviceId === 'dev1') {
        dev1Answered++;
        if (right && !dev1Broken) dev1Agreed++;
      }
      const p = [0.1, 0.1, 0.1];
      // A broken dev1 (a camera gone bad) votes a class the fused decision never is.
      p[d !== 1 ? prediction : dev1Broken ? (prediction + 1) % 3 : label] = 0.8;
      sections.push({ tier: 'device', node: deviceId, view: d, probabilities: p, entropy: 0.5, latencyMs: 10 + d * 10, shadow: false });
      messages.push({ from: deviceId, to: 'local', kind: 'scores', bytes: 12, shadow: false });
    }
    const probs = (conf: number) => [0, 1, 2].map((c) => (c === prediction ? conf : (1 - conf) / 2));
    // As the engine logs a sample: the devices' and the local sections in one event, then the local exit.
    sections.push({ tier: 'local', node: 'local', probabilities: probs(easy ? 0.93 : 0.6), entropy: easy ? 0.3 : 0.9, latencyMs: 0, shadow: false });
    out.push({ type: 'SectionsEvaluated', data: { sessionId: runId, sampleIndex: i, sections } });
    out.push({ type: 'ExitDecided', data: { sessionId: runId, sampleIndex: i, tier: 'local', eta: easy ? 0.3 : 0.9, threshold: 0.8, policy: 'entropy', exited: easy, prediction, label: labelled ? label : null, shadow: false } });
    if (!easy) {
      out.push({ type: 'SectionsEvaluated', data: { sessionId: runId, sampleIndex: i, sections: [{ tier: 'cloud', node: 'cloud', probabilities: probs(0.75), entropy: 0.6, latencyMs: 0, shadow: false }] } });
      out.push({ type: 'ExitDecided', data: { sessionId: runId, sampleIndex: i, tier: 'cloud', eta: 0.6, threshold: null, policy: 'entropy', exited: true, prediction, label: labelled ? label : null, shadow: false } });
    }
    out.push({ type: 'MessagesTransferred', data: { sessionId: runId, sampleIndex: i, messages } });
    events.push(out);
  }
  return { events, correct, localExits, cloudCorrect, dev1Agreement: dev1Agreed / dev1Answered };
}

describe('metrics API', () => {
  let api: TestApi;
  const samples = 200;
  let truth: ReturnType<typeof runEvents>;

  beforeAll(async () => {
    api = await startTestApi({ DDNN_ADMIN_TOKEN: TOKEN });
    const store = api.app.get(Database).store;
    // A labelled reference session (completed), then a stream of the same kind of data without labels.
    const ref = runEvents('ref1', samples, true);
    const start = (sessionId: string): NewEvent => ({
      type: 'SessionStarted',
      data: {
        sessionId, modelId: 'm1', dataset: 'synthetic', split: 'test', classes: ['car', 'bus', 'person'], sampleCount: samples,
        topology: { devices: [{ deviceId: 'dev0', view: 0 }, { deviceId: 'dev1', view: 1 }, { deviceId: 'dev2', view: 2 }] }, policy: { kind: 'entropy', thresholds: { local: 0.8 } },
        mode: 'production', deadlineMs: 100, messageSizes: { scoresBytes: 12, featuresBytes: 32, rawBytes: 3072 },
      },
    });
    await store.appendToStream(streamIds.session('ref1'), [start('ref1'), ...ref.events.flat(), { type: 'SessionCompleted', data: { sessionId: 'ref1', samples, durationMs: 1000 } }]);
    // A run of the model finished after the reference with three labels: too few to be anyone's default reference.
    const few = runEvents('few', 3, true);
    await store.appendToStream(streamIds.session('few'), [start('few'), ...few.events.flat(), { type: 'SessionCompleted', data: { sessionId: 'few', samples: 3, durationMs: 10 } }]);
    truth = runEvents('st1', samples, false);
    await store.appendToStream(streamIds.stream('st1'), truth.events.flat());
    await store.appendToStream(streamIds.stream('st2'), runEvents('st2', 40, false, true).events.flat());
    // Ten more samples of st2 no camera answered: they end without an answer.
    await store.appendToStream(
      streamIds.stream('st2'),
      Array.from({ length: 10 }, (_, k): NewEvent[] => [
        { type: 'SampleStarted', data: { sessionId: 'st2', sampleIndex: 40 + k, sampleId: `x${40 + k}`, label: null } },
        { type: 'SampleUnanswered', data: { sessionId: 'st2', sampleIndex: 40 + k, label: null } },
      ]).flat(),
    );
    // st2's gaps: an outage of 3.5 s at 2/s (6 triggers) and two backlogs.
    const t0 = Date.now() - 60_000;
    await store.appendToStream(streamIds.stream('st2'), [
      { type: 'StreamGap', data: { sessionId: 'st2', cause: 'outage', from: t0, to: t0 + 3500, missedTriggers: 6, nextSample: 50 } },
      { type: 'StreamGap', data: { sessionId: 'st2', cause: 'backlog', from: t0 + 4000, to: t0 + 5000, missedTriggers: 2, nextSample: 52 } },
      { type: 'StreamGap', data: { sessionId: 'st2', cause: 'backlog', from: t0 + 6000, to: t0 + 7000, missedTriggers: 3, nextSample: 56 } },
    ]);
    // Cameras that only ever served a labelled stream still running (as the demo's do), none of them in a completed run.
    const cams = JSON.parse(JSON.stringify(runEvents('st3', 40, true).events.flat()).replace(/"dev(\d)"/g, '"cam$1"')) as NewEvent[];
    const streamStarted: NewEvent = {
      type: 'StreamStarted',
      data: {
        sessionId: 'st3', modelId: 'm1', classes: ['car', 'bus', 'person'], rate: 2, captureToleranceMs: 500,
        topology: { devices: [0, 1, 2].map((v) => ({ deviceId: `cam${v}`, view: v })) }, policy: { kind: 'entropy', thresholds: { local: 0.8 } },
        mode: 'production', deadlineMs: 100, messageSizes: { scoresBytes: 12, featuresBytes: 32, rawBytes: 3072 },
      },
    };
    await store.appendToStream(streamIds.stream('st3'), [streamStarted, ...cams]);
    await store.appendToStream(streamIds.device('dev1'), [{ type: 'DeviceConnected', data: { deviceId: 'dev1', node: 'api-1', remoteAddress: null } }]);
    await new Promise((r) => setTimeout(r, 50));
    await store.appendToStream(streamIds.device('dev1'), [{ type: 'DeviceDisconnected', data: { deviceId: 'dev1', node: 'api-1', reason: 'socket closed' } }]);
    // The rollup follows the log in batches (every 2 s, up to 5000 events): wait until it has folded the last
    // stream appended too, or a batch boundary inside st2 is read as half its samples.
    const counted = async (runId: string) => {
      const r = await call<MetricSeries>(api, 'GET', `/metrics?metric=samples_per_second&runId=${runId}&step=1h`, TOKEN);
      return r.body.points?.reduce((s, p) => s + p.n, 0);
    };
    await waitFor('the rollup to count the streams', async () => (await counted('st1')) === samples && (await counted('st2')) === 50 && (await counted('st3')) === 40);
  }, 180_000);
  afterAll(() => api.close());

  const get = (q: string) => call(api, 'GET', `/metrics${q}`, TOKEN);
  const sum = (s: MetricSeries) => s.points.reduce((a, p) => a + p.n, 0);
  const only = (s: MetricSeries) => {
    const filled = s.points.filter((p) => p.n > 0);
    expect(filled).toHaveLength(1);
    return filled[0];
  };

  it('is for operators only and rejects malformed queries with a 400 that says why', async () => {
    expect((await call(api, 'GET', '/metrics?metric=samples_per_second')).status).toBe(401);
    const cases: [string, RegExp][] = [
      ['?metric=nope', /metric: must be one of/],
      ['?metric=device_latency_p50&link=a->b', /not measured per link/],
      ['?metric=samples_per_second&from=yesterday', /from: must be epoch milliseconds or an ISO-8601 time/],
      ['?metric=samples_per_second&from=0&to=2592000000&step=1m', /at most 11000/],
      ['?metric=samples_per_second&from=0&to=9999999999999', /at most 31 days/],
      ['?metric=samples_per_second&step=30s', /whole number of minutes/],
      ['?metric=samples_per_second&bogus=1', /Unrecognized key/],
      ['?metric=exit_rate_local&runId=', /runId/],
    ];
    for (const [q, message] of cases) {
      const r = await get(q);
      expect({ q, status: r.status }).toEqual({ q, status: 400 });
      expect(r.body.message).toMatch(message);
    }
  });

  it('answers each metric of a stream from the rollup', async () => {
    const q = (metric: string, extra = '') => get(`?metric=${metric}&runId=st1&step=1h${extra}`);
    const rate = (await q('exit_rate_local')).body as MetricSeries;
    expect(only(rate).value).toBeCloseTo(truth.localExits / samples);
    expect(rate.unit).toBe('ratio');
    // No label arrived for the stream: labelled accuracy has no value, the estimate has one with an interval.
    expect(sum((await q('accuracy_labelled')).body)).toBe(0);
    const est = (await q('accuracy_estimated')).body as MetricSeries;
    expect(est.reference).toEqual({ runId: 'ref1', samples });
    const point = only(est);
    const accuracy = truth.correct / samples;
    // Calibrated on a reference of the same data, the estimate matches the accuracy the labels would give.
    expect(Math.abs(point.value! - accuracy)).toBeLessThan(0.03);
    expect(point.low!).toBeLessThan(accuracy);
    expect(point.high!).toBeGreaterThan(accuracy);
    expect(only((await q('accuracy_estimated_cloud')).body).value).toBeCloseTo(truth.cloudCorrect / (samples - truth.localExits), 2);
    // Same data as the reference: no drift.
    expect(only((await q('local_exit_rate_drift')).body).value).toBeCloseTo(0);
    expect(only((await q('entropy_drift')).body).value).toBeCloseTo(0);
    expect(only((await q('entropy_p50_local')).body).value).toBeCloseTo(0.305, 2);
    // dev0 and dev2 vote the fused prediction, dev1 the label: it agrees with the decision as often as it is right.
    expect(only((await q('device_agreement', '&deviceId=dev0')).body).value).toBe(1);
    expect(only((await q('device_agreement', '&deviceId=dev1')).body).value).toBeCloseTo(truth.dev1Agreement);
    expect(only((await q('device_miss_rate', '&deviceId=dev1')).body).value).toBeCloseTo(0.2);
    // ... and with its peers (dev0 and dev2, who always agree) as often.
    expect(only((await q('peer_agreement', '&deviceId=dev1')).body).value).toBeCloseTo(truth.dev1Agreement);
    // Each device against itself in the reference: the same data, so no certain drop (the bound is above 0); a
    // device the reference lacks has no value.
    const same = only((await q('peer_agreement_drift', '&deviceId=dev1')).body).value!;
    expect(same).toBeGreaterThan(0);
    expect(same).toBeLessThan(0.2);
    expect(sum((await q('peer_agreement_drift', '&deviceId=dev9')).body)).toBe(0);
    // dev1 gone bad in another stream: it never agrees with its peers; its whole reference share is lost, less
    // what 32 samples leave uncertain.
    const broken = (await get('?metric=peer_agreement_drift&runId=st2&deviceId=dev1&step=1h')).body as MetricSeries;
    expect(broken.reference).toEqual({ runId: 'ref1', samples });
    expect(only(broken).n).toBe(32);
    expect(only(broken).value).toBeLessThan(-truth.dev1Agreement + 0.15);
    expect(only(broken).value).toBeGreaterThan(-truth.dev1Agreement);
    expect(only((await q('miss_rate_timeout')).body).value).toBeCloseTo(40 / 600);
    // Every st1 sample was answered; 10 of st2's 50 were not.
    expect(only((await q('unanswered_rate')).body).value).toBe(0);
    const unanswered = only((await get('?metric=unanswered_rate&runId=st2&step=1h')).body as MetricSeries);
    expect([unanswered.value, unanswered.n]).toEqual([10 / 50, 50]);
    const p95 = only((await q('device_latency_p95', '&deviceId=dev1')).body).value!;
    expect(p95).toBeGreaterThan(19);
    expect(p95).toBeLessThan(21);
    // The hour is still going on: its rate is over the time since it began, not the whole hour.
    const bytes = only((await q('bytes_per_second', '&link=dev0->local')).body as MetricSeries);
    const elapsed = (Date.now() - bytes.t) / 1000;
    expect(bytes.value!).toBeGreaterThan((samples * 12) / 3600);
    expect(Math.abs((bytes.value! * elapsed) / (samples * 12) - 1)).toBeLessThan(0.02);
    expect(only((await q('bytes_per_second', '&deviceId=dev1')).body).n).toBe(160);
  });

  it('steps through a window at one minute, and gives the latest value of a window', async () => {
    const now = Date.now();
    const r = await get(`?metric=samples_per_second&runId=st1&from=${now - 3_600_000}&to=${now + 60_000}&step=1m`);
    expect(r.status).toBe(200);
    expect(r.body.points.length).toBeGreaterThanOrEqual(60);
    expect(sum(r.body)).toBe(samples);
    const latest = await get('/latest?metric=exit_rate_local&runId=st1&window=1h');
    expect(latest.status).toBe(200);
    expect(latest.body.value).toBeCloseTo(truth.localExits / samples);
    expect((await get('/latest?metric=exit_rate_local&runId=nothing&window=1h')).body.value).toBeNull();
  });

  it("totals what a run counted over a window, as its events count it, for a window too long to read event by event", async () => {
    const now = Date.now();
    const r = await get(`/totals?runId=st1&from=${now - 3_600_000}&to=${now + 1}`);
    expect(r.status).toBe(200);
    const t = r.body as RunWindowTotals;
    // The window widened to whole minutes.
    expect(t.from % 60_000).toBe(0);
    expect(t.to % 60_000).toBe(0);
    // 200 samples, a quarter of them to the cloud; dev1 missed every fifth (40 of 600 requests); 12 B per answer.
    expect(t).toMatchObject({ runId: 'st1', samples, decided: samples, unanswered: 0, exits: { local: truth.localExits, edge: 0, cloud: samples - truth.localExits }, labelled: 0, correct: 0 });
    expect(t).toMatchObject({ misses: { answered: 560, missed: 40, notCaptured: 0, captured: 600, missRate: 40 / 600 }, bytes: 560 * 12, messages: 560 });
    const st2 = (await get(`/totals?runId=st2&from=${now - 3_600_000}&to=${now + 1}`)).body as RunWindowTotals;
    expect([st2.samples, st2.decided, st2.unanswered]).toEqual([50, 40, 10]);
    expect(st2.gaps).toEqual({ missedTriggers: { outage: 6, backlog: 5, stall: 0 }, outages: 1, outageMs: 3500 });
    expect(t.gaps).toEqual({ missedTriggers: { outage: 0, backlog: 0, stall: 0 }, outages: 0, outageMs: 0 });
    // A labelled run counts its labels; a window before anything happened counts nothing.
    const ref = (await get(`/totals?runId=ref1&from=${now - 3_600_000}&to=${now + 1}`)).body as RunWindowTotals;
    expect([ref.labelled, ref.correct]).toEqual([samples, truth.correct]);
    expect((await get(`/totals?runId=st1&from=${now - 7_200_000}&to=${now - 3_660_000}`)).body).toMatchObject({ samples: 0, decided: 0, bytes: 0 });
    // A month reads hours.
    expect(((await get(`/totals?runId=st1&from=${now - 30 * 86_400_000}&to=${now + 1}`)).body as RunWindowTotals).samples).toBe(samples);
    for (const [q, message] of [
      ['/totals?from=0', /runId/],
      ['/totals?runId=st1&from=0&to=9999999999999', /at most 31 days/],
      ['/totals?runId=st1&from=10&to=5', /from must be before to/],
      // A year before 1970 is a time, not a window's end: said as such.
      ['/totals?runId=st1&from=-000100-01-01T00:00:00Z&to=5', /from must be at or after 1970/],
      ['/totals?runId=st1&bogus=1', /Unrecognized key/],
      // Not rolled over to March 2.
      ['/totals?runId=st1&from=2026-02-30T00:00:00Z', /from: must be epoch milliseconds or an ISO-8601 time/],
    ] as const) {
      const bad = await get(q);
      expect({ q, status: bad.status }).toEqual({ q, status: 400 });
      expect(bad.body.message).toMatch(message);
    }
  });

  it('gives the same latest values with a memo shared by many reads, reading the devices\' references and each metric\'s cells once', async () => {
    const metrics = api.app.get(MetricsService);
    const repo = api.app.get(MetricsRepository);
    const reads = (['dev0', 'dev1', 'dev2', 'dev-never-seen'] as const).flatMap((deviceId) => [
      ['peer_agreement_drift', { deviceId }],
      ['device_agreement', { deviceId }],
      ['device_miss_rate', { deviceId }],
    ] as const);
    const alone = await Promise.all(reads.map(([m, subject]) => metrics.latest(m, subject, 3_600_000)));
    const spies = (['latestLabelledRunsByDevice', 'runTotal', 'run', 'cells', 'cellsByKey'] as const).map((k) => jest.spyOn(repo, k));
    try {
      const memo = new Map();
      const shared = [];
      for (const [m, subject] of reads) shared.push(await metrics.latest(m, subject, 3_600_000, undefined, memo));
      expect(shared).toEqual(alone);
      expect(alone.some((v) => v !== null)).toBe(true);
      const [latestLabelled, runTotal, , cells, cellsByKey] = spies.map((s) => s.mock.calls.length);
      // Every device's reference in one read; per device, its totals there (none for the device no run saw); the
      // reference run's totals once for all.
      expect(latestLabelled).toBe(1);
      expect(runTotal).toBe(3 + 1);
      // The devices' cells: one read of every device per metric, none per device.
      expect(cells).toBe(0);
      expect(cellsByKey).toBe(3);
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
  });

  it('compares a device with its completed labelled run, or, when it served none, with the labelled stream it serves', async () => {
    const repo = api.app.get(MetricsRepository);
    await waitFor('the projection to fold st3', async () => ((await repo.run('st3'))?.labelled ?? 0) >= 40);
    const refs = await repo.latestLabelledRunsByDevice(null, undefined, ['dev1', 'cam1', 'nobody']);
    expect(Object.fromEntries(refs)).toEqual({ dev1: 'ref1', cam1: 'st3' });
    const drift = await get('?metric=peer_agreement_drift&deviceId=cam1&step=1h');
    expect(drift.status).toBe(200);
    expect((drift.body as MetricSeries).reference).toEqual({ runId: 'st3', samples: 40 });
  });

  it("draws a device's connectivity over time", async () => {
    const r = await get(`/connectivity?deviceId=dev1&from=${Date.now() - 3_600_000}`);
    expect(r.status).toBe(200);
    expect(r.body.spans.map((s: { state: string }) => s.state)).toEqual(['unknown', 'connected', 'disconnected']);
    expect(r.body.spans[2].reason).toBe('socket closed');
  });
});

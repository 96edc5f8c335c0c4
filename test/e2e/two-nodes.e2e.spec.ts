import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Socket } from 'socket.io-client';
import { LIVE_NAMESPACE, LiveEvents, type LiveEventMessage, type LiveSubscribeAck, type SessionView, type StoredEvent, type StreamView } from '@ddnn/contracts';
import { compareCheckpoints } from '@ddnn/events';
import {
  answeringExits,
  type ApiProcess,
  bootPlatform,
  connectSocket,
  E2E_DATASET,
  failoverProxy,
  type FailoverProxy,
  operatorClient,
  type Platform,
  readRunEvents,
  readSessionEvents,
  researchSession,
  type RunningProcess,
  startAgent,
  waitFor,
  waitForDevices,
  waitForSessionCompleted,
  sectionsIn,
} from '@ddnn/testing';

const TOKEN = 'e2e-operator-token-two-nodes-0123';
const op = operatorClient(TOKEN);
const POLL_MS = 1000;
const VIEWS = [0, 1, 2, 3, 4, 5];
const SAMPLES = 171;
/** The machine's Redis (TEST_REDIS_URL to use another); each run gets its own channel prefix. */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A /live client of one node: what it received live, and the checkpoint its subscription was acknowledged at. */
interface Feed {
  node: ApiProcess;
  socket: Socket;
  live: LiveEventMessage[];
  /** The log's head when the subscription was acknowledged: everything after it must arrive live. */
  checkpoint: string | null;
}

async function follow(node: ApiProcess, sessionId: string): Promise<Feed> {
  const socket = await connectSocket(`${node.url}${LIVE_NAMESPACE}`, { token: TOKEN });
  const live: LiveEventMessage[] = [];
  socket.on(LiveEvents.event, (m: LiveEventMessage) => live.push(m));
  const ack = (await socket.emitWithAck(LiveEvents.subscribe, { sessionId })) as LiveSubscribeAck;
  if (!ack.ok) throw new Error(`subscribe on ${node.url}: ${ack.error}`);
  return { node, socket, live, checkpoint: ack.checkpoint };
}

const ids = (events: { eventId: string }[]) => events.map((e) => e.eventId);
const repeated = (keys: string[]) => keys.filter((k, i) => keys.indexOf(k) !== i);
const after = (events: StoredEvent[], checkpoint: string | null) => (checkpoint ? events.filter((e) => compareCheckpoints(e.checkpoint, checkpoint) > 0) : events);

describe('two API nodes on one PostgreSQL and one Redis (real processes, real agents)', () => {
  let platform: Platform;
  const proxies: FailoverProxy[] = [];
  const agents: RunningProcess[] = [];
  const feeds: Feed[] = [];

  beforeAll(async () => {
    platform = await bootPlatform({
      name: 'two-nodes',
      token: TOKEN,
      env: { REDIS_URL, DDNN_REDIS_PREFIX: `ddnn-e2e-${randomBytes(6).toString('hex')}`, DDNN_SESSION_POLL_MS: String(POLL_MS) },
    });
  }, 600_000);

  afterAll(async () => {
    for (const f of feeds) f.socket.close();
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
    await Promise.all(proxies.map((p) => p.close()));
    await platform?.teardown();
  });

  it('devices on both nodes; SIGKILL of the owner hands its session and stream over within two polls, no sample decided twice, /live complete on both', async () => {
    const [a, b] = [await platform.start({ DDNN_NODE_ID: 'node-a' }), await platform.start({ DDNN_NODE_ID: 'node-b' })];
    const nodeOf = new Map([['node-a', a], ['node-b', b]]);
    const port = (n: ApiProcess) => Number(new URL(n.url).port);
    // The agents' front doors: half prefer node A, half node B; each fails over to the other, as behind a load balancer.
    proxies.push(await failoverProxy([port(a), port(b)]), await failoverProxy([port(b), port(a)]));

    const { provisioningKey } = await op.call<{ provisioningKey: string }>(a, 'POST', '/api/profiles', { name: 'two-node-cameras' });
    for (const view of VIEWS) {
      agents.push(
        startAgent({ server: proxies[view % 2].url, profileKey: provisioningKey, name: `cam-${view}`, view, stateDir: platform.work, args: ['--data', path.join(platform.dataDir, 'datasets')] }),
      );
    }
    // Every node lists every device, wherever its socket is.
    const devices = await waitForDevices(op, b, VIEWS.length, 'name=cam-', 120_000);
    await waitForDevices(op, a, VIEWS.length, 'name=cam-');
    expect(new Set(devices.map((d) => d.connectivity.node))).toEqual(new Set(['node-a', 'node-b']));

    const spec = researchSession(devices, { rate: 8, deadlineMs: 3000 });
    const { id } = await op.call<{ id: string }>(a, 'POST', '/api/sessions', spec);
    // A stream on the same devices (they replay the test split), created on the same node: the node that wakes
    // on the requests takes both at once, so the node killed below owns both.
    const stream = await op.call<{ id: string }>(a, 'POST', '/api/streams', {
      modelId: 'default', topology: spec.topology, policy: spec.policy, rate: 4, deadlineMs: 3000, replay: { dataset: E2E_DATASET, split: 'test' },
    });
    const streamView = (node = b) => op.call<StreamView>(node, 'GET', `/api/streams/${stream.id}`);
    const watching = [await follow(a, id), await follow(b, id)];
    feeds.push(...watching);
    const owned = await waitFor('an owner', async () => (await op.call<SessionView>(b, 'GET', `/api/sessions/${id}`)).owner);
    expect(await waitFor('the stream to run', async () => (await streamView()).owner)).toBe(owned);
    const owner = nodeOf.get(owned)!;
    const [survivorName, survivor] = [...nodeOf].find(([name]) => name !== owned)!;
    const [ownerFeed, survivorFeed] = owner === a ? watching : [watching[1], watching[0]];

    await waitFor('40 samples on the owner', async () => ((await op.call<SessionView>(survivor, 'GET', `/api/sessions/${id}`)).samplesDone >= 40 ? true : undefined), 120_000);
    await owner.stop('SIGKILL');
    const killedAt = Date.now();

    // Take-over: the survivor holds the session's lock (it says so in its log) and then names itself its owner.
    const lockedAt = await waitFor('the survivor to take the session', () => {
      const line = survivor.output().split('\n').find((l) => l.includes(`session ${id}: running on ${survivorName}`));
      return line ? Date.parse((JSON.parse(line) as { time: string }).time) : undefined;
    }, 60_000, 20);
    const handoverMs = lockedAt - killedAt;
    await waitFor('the survivor to own the session', async () => ((await op.call<SessionView>(survivor, 'GET', `/api/sessions/${id}`)).owner === survivorName ? true : undefined), 60_000, 20);
    const ownerMs = Date.now() - killedAt;
    const streamLockedAt = await waitFor('the survivor to take the stream', () => {
      const line = survivor.output().split('\n').find((l) => l.includes(`stream ${stream.id}: running on ${survivorName}`));
      return line ? Date.parse((JSON.parse(line) as { time: string }).time) : undefined;
    }, 60_000, 20);

    // The killed node's /live client does what the dashboard does: reconnects (to the survivor) and catches up over REST.
    const lastSeen = ownerFeed.live.length ? ownerFeed.live[ownerFeed.live.length - 1].checkpoint : ownerFeed.checkpoint;
    const reconnected = await follow(survivor, id);
    feeds.push(reconnected);

    const done = await waitForSessionCompleted(op, survivor, id, 240_000);
    expect(done.samplesDone).toBe(SAMPLES);
    const events = await waitFor('the whole session in the log', async () => {
      const all = await readSessionEvents(op, survivor, id);
      return all.some((e) => e.type === 'SessionCompleted') ? all : undefined;
    });
    await waitFor('the completion live on the survivor', () => [survivorFeed, reconnected].every((f) => f.live.some((m) => m.event.type === 'SessionCompleted')), 30_000);

    // The log: every sample started and decided exactly once, whichever node ran it.
    const of = <T extends StoredEvent['type']>(t: T) => events.filter((e): e is Extract<StoredEvent, { type: T }> => e.type === t);
    expect(repeated(ids(events))).toEqual([]);
    const started = of('SampleStarted').map((e) => e.data.sampleIndex);
    expect(started).toHaveLength(SAMPLES);
    expect(new Set(started).size).toBe(SAMPLES);
    const exits = answeringExits(events).map((e) => e.data.sampleIndex);
    expect(exits).toHaveLength(SAMPLES);
    expect(new Set(exits).size).toBe(SAMPLES);
    expect(repeated(of('ExitDecided').map((e) => `${e.data.sampleIndex}/${e.data.tier}/${e.data.shadow}`))).toEqual([]);
    expect(repeated(sectionsIn(events).map((s) => `${s.sampleIndex}/${s.tier}/${s.node}`))).toEqual([]);
    expect(of('SessionStarted')).toHaveLength(1);
    expect(of('SessionCompleted')).toHaveLength(1);
    expect(survivor.output()).toMatch(new RegExp(`resuming with \\d+ of ${SAMPLES} samples left`));
    const startedBefore = of('SampleStarted').filter((e) => Date.parse(e.createdAt) < killedAt).length;
    // The first sample the survivor started (database time, same machine clock).
    const resumedMs = Math.min(...of('SampleStarted').map((e) => Date.parse(e.createdAt)).filter((t) => t > killedAt)) - killedAt;

    // /live on the survivor: every event after its subscription, once each, with the log's checkpoints.
    const byId = new Map(events.map((e) => [e.eventId, e]));
    for (const f of [...watching, reconnected]) {
      expect(repeated(f.live.map((m) => m.event.eventId))).toEqual([]);
      for (const m of f.live) expect(byId.get(m.event.eventId)?.checkpoint).toBe(m.checkpoint);
    }
    const expectedOnSurvivor = ids(after(events, survivorFeed.checkpoint));
    const gotOnSurvivor = new Set(survivorFeed.live.map((m) => m.event.eventId));
    expect(expectedOnSurvivor.filter((e) => !gotOnSurvivor.has(e))).toEqual([]);
    // The stream goes on on the survivor: stop it once it has run a while there, then read its whole log.
    const streamAtKill = (await streamView(survivor)).samplesDone;
    await waitFor('20 more stream samples on the survivor', async () => ((await streamView(survivor)).samplesDone >= streamAtKill + 20 ? true : undefined), 120_000);
    await op.call(survivor, 'POST', `/api/streams/${stream.id}/stop`);
    await waitFor('the stream to stop', async () => ((await streamView(survivor)).status === 'stopped' ? true : undefined), 60_000);
    const streamEvents = await waitFor('the whole stream in the log', async () => {
      const all = await readRunEvents(op, survivor, `/api/streams/${stream.id}`);
      return all.some((e) => e.type === 'SessionCompleted') ? all : undefined;
    });
    const streamStarted = streamEvents.filter((e): e is Extract<StoredEvent, { type: 'SampleStarted' }> => e.type === 'SampleStarted');
    expect(streamStarted.map((e) => e.data.sampleIndex).sort((x, y) => x - y)).toEqual(streamStarted.map((_, i) => i));
    // Every sample has one outcome: its answering exit, or (no device answered it, as an agent may skip the first
    // capture while its source starts) one SampleUnanswered; none has two.
    const streamExits = answeringExits(streamEvents).map((e) => e.data.sampleIndex);
    const streamUnanswered = streamEvents.flatMap((e) => (e.type === 'SampleUnanswered' ? [e.data.sampleIndex] : []));
    const outcomes = [...streamExits, ...streamUnanswered];
    expect(outcomes).toHaveLength(streamStarted.length);
    expect(new Set(outcomes).size).toBe(streamStarted.length);
    expect(repeated(ids(streamEvents))).toEqual([]);
    expect(streamEvents.filter((e) => e.type === 'StreamStarted')).toHaveLength(1);
    const streamAfterKill = streamStarted.filter((e) => Date.parse(e.createdAt) > killedAt).length;
    expect(streamAfterKill).toBeGreaterThanOrEqual(20);
    expect(survivor.output()).toMatch(new RegExp(`stream ${stream.id}: resuming at sample \\d+`));
    // The outage is in the stream's log: from the last sample the killed node logged to the survivor's first trigger.
    const outages = streamEvents.flatMap((e) => (e.type === 'StreamGap' && e.data.cause === 'outage' ? [e.data] : []));
    expect(outages).toHaveLength(1);
    // Samples below nextSample are the killed node's, the rest the survivor's.
    const bySurvivor = (e: StoredEvent) => Date.parse(e.createdAt) > killedAt;
    expect(streamStarted.filter((e) => e.data.sampleIndex < outages[0].nextSample && bySurvivor(e))).toEqual([]);
    expect(streamStarted.filter((e) => e.data.sampleIndex >= outages[0].nextSample && !bySurvivor(e))).toEqual([]);
    expect(outages[0].from).toBeLessThanOrEqual(killedAt);
    expect(outages[0].to).toBeGreaterThanOrEqual(killedAt);
    // The triggers due strictly inside the outage at 4/s (the runner's rule; CI-4 saw round() differ from it).
    expect(outages[0].missedTriggers).toBe(Math.max(0, Math.ceil(((outages[0].to - outages[0].from) * 4) / 1000) - 1));
    expect((await streamView(survivor)).summary?.gaps).toMatchObject({ outages: 1, missedTriggers: { outage: outages[0].missedTriggers } });

    process.stdout.write(
      `two nodes (before the catch-up): session taken ${handoverMs} ms after the kill (owner field ${ownerMs} ms, first sample ${resumedMs} ms), ` +
        `stream taken ${streamLockedAt - killedAt} ms after; stream ${streamStarted.length} samples (${streamAfterKill} after the kill) each decided once, ` +
        `its outage logged (${outages[0].to - outages[0].from} ms, ${outages[0].missedTriggers} triggers missed); ` +
        `session log ${events.length} events; /live on ${survivorName} ${survivorFeed.live.length} of ${expectedOnSurvivor.length}\n`,
    );
    // /live of the killed node: live up to the kill, the gap over REST, live again after reconnecting: the whole run.
    const gap = await readRunEvents(op, survivor, `/api/sessions/${id}`, lastSeen).catch((e: Error) => {
      throw new Error(`${e.message} (${(e.cause as Error)?.message}); after=${lastSeen}; survivor exit ${survivor.child.exitCode} ${survivor.child.signalCode}:\n${survivor.output().slice(-3000)}`);
    });
    const gotByKilled = new Set([...ownerFeed.live, ...reconnected.live].map((m) => m.event.eventId).concat(ids(gap)));
    const expectedOnKilled = ids(after(events, ownerFeed.checkpoint));
    expect(expectedOnKilled.filter((e) => !gotByKilled.has(e))).toEqual([]);

    process.stdout.write(
      `two nodes: ${owned} killed after ${startedBefore} samples started; ${survivorName} took the session ${handoverMs} ms later ` +
        `(poll ${POLL_MS} ms; its record named the new owner after ${ownerMs} ms), first sample ${resumedMs} ms after the kill; log ${events.length} events, ${SAMPLES} samples each decided once; ` +
        `/live on ${survivorName}: ${survivorFeed.live.length} events live of ${expectedOnSurvivor.length} after its subscription; ` +
        `/live of ${owned}: ${ownerFeed.live.length} live before the kill + ${gap.length} over REST (${reconnected.live.length} live after reconnecting) ` +
        `of ${expectedOnKilled.length}; stream: taken ${streamLockedAt - killedAt} ms after the kill, ${streamStarted.length} samples ` +
        `(${streamAfterKill} on ${survivorName}) each decided once\n`,
    );
    expect(handoverMs).toBeLessThan(2 * POLL_MS);
    expect(streamLockedAt - killedAt).toBeLessThan(2 * POLL_MS);
  }, 600_000);
});

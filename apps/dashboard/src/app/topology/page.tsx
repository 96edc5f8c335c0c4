'use client';
import '@xyflow/react/dist/style.css';
import { Background, Controls, type Edge, MarkerType, type Node, ReactFlow } from '@xyflow/react';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { bytesByLink } from '@ddnn/contracts';
import { Card, Empty, ErrorNote, LiveIndicator, Loading, StatusBadge } from '../../components/ui';
import { api, sessionOrStream } from '../../lib/api';
import { fmtBytes, shortId } from '../../lib/format';
import { useLiveRun } from '../../lib/live';
import { deviceMisses } from '../../lib/misses';
import { livePolicyLabel } from '../../lib/policy';
import { layoutTopology } from '../../lib/topology';
import { useAsync } from '../../lib/use-async';

const FINISHED = new Set(['completed', 'stopped', 'failed']);
const KIND_STYLE: Record<string, { background: string; border: string }> = {
  device: { background: '#ffffff', border: '#98a2b3' },
  local: { background: '#e3f4ec', border: '#2f9e6b' },
  edge: { background: '#fbf0dc', border: '#d08b1a' },
  cloud: { background: '#e8ebfb', border: '#5b6ee1' },
};

/** The run drawn: a session, or a stream (drawn alike: both views are a RunView). */
type Run = Awaited<ReturnType<typeof sessionOrStream>>;

function Graph({ run }: { run: Run }) {
  const { kind, view: initial } = run;
  const [current, setCurrent] = useState<Run['view']>(initial);
  const prev = useRef<Record<string, number>>({});
  const [moving, setMoving] = useState<Set<string>>(new Set());
  const devices = useAsync(() => api.devices({ limit: 500 }), [], 5000);
  const refresh = useCallback(() => {
    void (kind === 'stream' ? api.stream(initial.id) : api.session(initial.id)).then(setCurrent).catch(() => undefined);
  }, [kind, initial.id]);
  const running = !FINISHED.has(current.status);
  // Only progress matters here: a stream's catch-up starts now rather than at the start of a weeks-long log.
  const [from] = useState(() => new Date().toISOString());
  const feed = useLiveRun({ kind, id: initial.id, from }, { onEvents: () => undefined, onProgress: refresh }, { enabled: running, initialCheckpoint: initial.summary?.checkpoint ?? null });
  useEffect(() => {
    if (!running || feed.state === 'live') return;
    const t = setInterval(refresh, 3000);
    return () => clearInterval(t);
  }, [running, feed.state, refresh]);
  const bytes = useMemo(() => (current.summary ? bytesByLink(current.summary) : {}), [current]);
  // Links whose byte count grew since the last update are drawn animated: that is the live traffic.
  useEffect(() => {
    const grew = new Set(Object.keys(bytes).filter((k) => (bytes[k] ?? 0) > (prev.current[k] ?? 0) && prev.current[k] !== undefined));
    prev.current = { ...bytes };
    setMoving(grew);
  }, [bytes]);
  const active = useMemo(() => new Map((devices.data?.items ?? []).map((d) => [d.id, d] as const)), [devices.data]);
  const { nodes, links } = useMemo(() => layoutTopology(current.topology, bytes), [current.topology, bytes]);
  const samples = Math.max(1, current.summary?.samplesDecided ?? 0);
  const rfNodes: Node[] = nodes.map((n) => {
    const dev = n.kind === 'device' ? active.get(n.id) : undefined;
    const tally = n.kind === 'device' ? current.summary?.devices[n.id] : undefined;
    const misses = tally ? deviceMisses(tally) : undefined;
    const style = KIND_STYLE[n.kind];
    const down = dev ? !dev.connectivity.active : false;
    return {
      id: n.id,
      position: { x: n.x, y: n.y },
      data: {
        label: (
          <div style={{ fontSize: 12 }}>
            <strong>{n.label}</strong>
            {n.kind === 'device' && (
              <div className="muted mono" style={{ fontSize: 10 }}>
                {dev?.name ?? shortId(n.id)}
              </div>
            )}
            {dev && <div style={{ color: down ? 'var(--bad)' : 'var(--ok)', fontSize: 11 }}>{down ? 'inactive' : 'active'}</div>}
            {misses && misses.missed > 0 && (
              <div style={{ color: 'var(--bad)', fontSize: 11 }} data-testid="topology-missed">
                {misses.missed} missed
              </div>
            )}
            {misses && misses.notCaptured > 0 && (
              <div className="muted" style={{ fontSize: 10 }} data-testid="topology-not-captured">
                {misses.notCaptured} not captured
              </div>
            )}
            {n.kind === 'device' &&
              links
                .filter((l) => l.from === n.id)
                .map((l) => (
                  <div key={l.id} style={{ fontSize: 10, color: l.bytes ? '#1d2330' : '#98a2b3' }} data-testid="topology-device-traffic">
                    → {l.to}: {l.bytes ? fmtBytes(l.bytes) : 'none'}
                  </div>
                ))}
          </div>
        ),
      },
      style: { background: style.background, borderColor: down ? '#c2362f' : style.border, borderWidth: 2, width: 140, borderRadius: 8 },
      draggable: true,
    };
  });
  const max = Math.max(1, ...links.map((l) => l.bytes));
  const deviceIds = new Set(current.topology.devices.map((d) => d.deviceId));
  const rfEdges: Edge[] = links.map((l) => ({
    id: l.id,
    source: l.from,
    target: l.to,
    animated: moving.has(l.id),
    // Device links carry their numbers inside the device node: six labels on converging edges overlap.
    label: l.bytes && !deviceIds.has(l.from) ? `${fmtBytes(l.bytes)} · ${fmtBytes(l.bytes / samples)}/sample` : undefined,
    labelStyle: { fontSize: 10, fill: l.bytes ? '#1d2330' : '#98a2b3' },
    labelBgStyle: { fill: '#fbfcfd' },
    style: { stroke: l.bytes ? (l.to === 'local' ? '#2f9e6b' : '#5b6ee1') : '#d0d5dd', strokeWidth: 1 + 4 * Math.sqrt(l.bytes / max) },
    markerEnd: { type: MarkerType.ArrowClosed },
  }));
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>
            Topology of {kind === 'stream' ? 'stream ' : ''}
            <Link href={`/${kind}?id=${current.id}`} className={current.name ? undefined : 'mono'} data-testid="topology-run">
              {current.name || shortId(current.id)}
            </Link>{' '}
            <StatusBadge status={current.status} />{' '}
            {running && <LiveIndicator state={feed.state} detail={feed.detail} />}
          </h1>
          <p>
            {current.topology.devices.length} devices{current.topology.edges?.length ? ` · ${current.topology.edges.length} edge nodes` : ' · no edge tier'} · {livePolicyLabel(current.policy)} ·{' '}
            {current.summary ? `${current.summary.samplesDecided} samples, ${fmtBytes(current.summary.bytes.total)} counted` : 'no samples yet'}. Edge width ∝ bytes; moving edges carried traffic since the last update.
          </p>
        </div>
      </div>
      {devices.error && <p className="muted">Device connectivity unavailable: {devices.error.message}</p>}
      <div className="topo" data-testid="topology-graph">
        <ReactFlow nodes={rfNodes} edges={rfEdges} fitView fitViewOptions={{ padding: 0.15 }} proOptions={{ hideAttribution: true }} nodesConnectable={false}>
          <Background />
          <Controls showInteractive={false} />
        </ReactFlow>
      </div>
    </>
  );
}

/** Without an id: a running session, else a running stream, else the latest session, else the latest stream. */
async function defaultRun(): Promise<Run | null> {
  for (const status of ['running', undefined] as const) {
    const [sessions, streams] = await Promise.all([api.sessions({ status, limit: 1 }), api.streams({ status, limit: 1 })]);
    if (sessions.items.length) return { kind: 'session', view: await api.session(sessions.items[0].id) };
    if (streams.items.length) return { kind: 'stream', view: await api.stream(streams.items[0].id) };
  }
  return null;
}

function Inner() {
  const params = useSearchParams();
  // `?stream=` names a stream; `?session=` takes either (a stream's id too), as the session page links here.
  const stream = params.get('stream');
  const id = stream ?? params.get('session');
  const pick = useAsync(async (): Promise<Run | null> => {
    if (stream) return { kind: 'stream', view: await api.stream(stream) };
    return id ? sessionOrStream(id) : defaultRun();
  }, [id, stream]);
  if (pick.error) return <ErrorNote error={pick.error} what={stream ? 'the stream' : 'the run'} onRetry={pick.reload} />;
  if (pick.data === undefined) return <Loading what="the topology" />;
  if (pick.data === null)
    return (
      <Card title="Topology">
        <Empty title="No session or stream to draw yet.">
          The graph shows a run&apos;s devices → edge → cloud hierarchy with its traffic. <Link href="/sessions/new">Start a session</Link>.
        </Empty>
      </Card>
    );
  return <Graph key={pick.data.view.id} run={pick.data} />;
}

export default function TopologyPage() {
  return (
    <Suspense fallback={<Loading what="the topology" />}>
      <Inner />
    </Suspense>
  );
}

import type { SessionTopology } from '@ddnn/contracts';

export interface TopoNode {
  id: string;
  kind: 'device' | 'local' | 'edge' | 'cloud';
  label: string;
  x: number;
  y: number;
}
export interface TopoLink {
  id: string;
  from: string;
  to: string;
  bytes: number;
}

/**
 * Lays the hierarchy out in rows: devices on top, the local aggregator and edge nodes below them, the
 * cloud at the bottom. Links are the ones the topology allows plus any seen in the byte counts.
 */
export function layoutTopology(topology: SessionTopology, bytesByLink: Record<string, number>, width = 1100): { nodes: TopoNode[]; links: TopoLink[] } {
  const nodes: TopoNode[] = [];
  const n = topology.devices.length;
  const gap = Math.min(170, width / Math.max(1, n));
  const x0 = (width - gap * (n - 1)) / 2;
  topology.devices.forEach((d, i) => nodes.push({ id: d.deviceId, kind: 'device', label: `view ${d.view}`, x: x0 + i * gap - 60, y: 0 }));
  const edges = topology.edges ?? [];
  nodes.push({ id: 'local', kind: 'local', label: 'local aggregator', x: edges.length ? 40 : width / 2 - 260, y: 230 });
  edges.forEach((e, i) => nodes.push({ id: e.name, kind: 'edge', label: e.name, x: width / 2 - ((edges.length - 1) * 200) / 2 + i * 200 - 60, y: 230 }));
  nodes.push({ id: 'cloud', kind: 'cloud', label: 'cloud', x: width / 2 - 60, y: 420 });
  const links = new Map<string, TopoLink>();
  const add = (from: string, to: string) => {
    const id = `${from}->${to}`;
    if (!links.has(id)) links.set(id, { id, from, to, bytes: bytesByLink[id] ?? 0 });
  };
  for (const d of topology.devices) {
    add(d.deviceId, 'local');
    add(d.deviceId, d.edge ?? 'cloud');
  }
  for (const e of edges) add(e.name, 'cloud');
  const known = new Set(nodes.map((x) => x.id));
  for (const id of Object.keys(bytesByLink)) {
    const [from, to] = id.split('->');
    if (known.has(from) && known.has(to)) add(from, to);
  }
  return { nodes, links: [...links.values()] };
}

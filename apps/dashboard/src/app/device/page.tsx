'use client';
import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { type FormEvent, Suspense, useEffect, useState } from 'react';
import type { DeviceView, ProvisionDeviceResponse } from '@ddnn/contracts';
import { AlertsList } from '../../components/alerts-list';
import { DeviceOverTime } from '../../components/device-over-time';
import { Card, Empty, ErrorNote, Loading } from '../../components/ui';
import { api, ApiError } from '../../lib/api';
import { fmtAgo, fmtPct, fmtTime } from '../../lib/format';
import { parseTags } from '../../lib/session-form';
import { useAsync } from '../../lib/use-async';
import { useAction } from '../../lib/use-action';

function historyText(type: string, data: Record<string, unknown>): string {
  switch (type) {
    case 'DeviceRegistered':
      return `registered as ${String(data.name)} (${String(data.role)}${data.view !== null && data.view !== undefined ? `, view ${String(data.view)}` : ''})`;
    case 'DeviceConnected':
      return `connected to ${String(data.node)}${data.remoteAddress ? ` from ${String(data.remoteAddress)}` : ''}`;
    case 'DeviceDisconnected':
      return `disconnected: ${String(data.reason)}`;
    case 'DeviceWentInactive':
      return `went inactive (silent for ${String(data.timeoutMs)} ms)`;
    case 'DeviceBecameActive':
      return `active again after ${Math.round(Number(data.silentForMs) / 1000)} s of silence`;
    case 'ModelDeployed':
      return `installed ${String(data.section)} of ${String(data.modelId)} ${String(data.modelVersion)} (${String(data.bytes)} bytes)`;
    default:
      return type;
  }
}

function Actions({ device, onChange }: { device: DeviceView; onChange: () => void }) {
  const router = useRouter();
  const { busy, error, run } = useAction(onChange);
  const [token, setToken] = useState<ProvisionDeviceResponse | null>(null);
  const [tags, setTags] = useState(device.tags.join(', '));
  useEffect(() => setTags(device.tags.join(', ')), [device.tags]);
  const saveTags = (e: FormEvent) => {
    e.preventDefault();
    void run(() => api.updateDevice(device.id, { tags: parseTags(tags) }));
  };
  return (
    <Card title="Manage">
      <form className="toolbar" onSubmit={saveTags} aria-label="device tags">
        <label>
          Tags (comma separated)
          <input name="deviceTags" value={tags} onChange={(e) => setTags(e.target.value)} placeholder="lobby, floor-2" style={{ width: 260 }} />
        </label>
        <button type="submit" className="secondary" disabled={busy} style={{ alignSelf: 'flex-end' }}>
          Save tags
        </button>
      </form>
      <div className="toolbar">
        <button type="button" className="secondary" disabled={busy} onClick={() => run(() => api.updateDevice(device.id, { adminState: device.adminState === 'locked' ? 'unlocked' : 'locked' }))}>
          {device.adminState === 'locked' ? 'Unlock' : 'Lock'}
        </button>
        <button type="button" className="secondary" disabled={busy} onClick={() => run(async () => setToken(await api.rotateDeviceToken(device.id)))}>
          Rotate token
        </button>
        <button type="button" className="secondary" disabled={busy || !device.hasToken} onClick={() => run(() => api.revokeDeviceToken(device.id))}>
          Revoke token
        </button>
        <button
          type="button"
          className="danger"
          disabled={busy}
          onClick={() => {
            if (!window.confirm(`Delete ${device.name}? It is disconnected and leaves the registry; its events stay in the log.`)) return;
            void run(async () => {
              await api.deleteDevice(device.id);
              router.push('/devices');
            });
          }}
        >
          Delete device
        </button>
      </div>
      {token && (
        <p className="note" data-testid="rotated-token">
          New token (shown once; the old one no longer works): <code>{token.token}</code>. The device agent stops
          until it is started once with it: <code>--token &lt;token&gt;</code> or <code>DDNN_DEVICE_TOKEN</code>.
        </p>
      )}
      {error && <ErrorNote error={error} action="change" what="the device" />}
    </Card>
  );
}

function DeviceDetail({ id }: { id: string }) {
  const device = useAsync(() => api.device(id), [id], 5000);
  const history = useAsync(() => api.deviceHistory(id), [id], 5000);
  const d = device.data;
  if (device.error && !d && device.error instanceof ApiError && device.error.notFound)
    return (
      <Empty title="Device not found.">
        No device has the id <span className="mono">{id}</span>: it may have been deleted (its events stay in the log), or the address is wrong. See{' '}
        <Link href="/devices">all devices</Link>.
      </Empty>
    );
  if (device.error && !d) return <ErrorNote error={device.error} what={`device ${id}`} onRetry={device.reload} />;
  if (!d) return <Loading what="the device" />;
  const c = d.connectivity;
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>
            {d.name} {d.simulated && <span className="badge sim">simulated</span>}{' '}
            <span className={`badge ${c.active ? 'active' : 'inactive'}`} data-testid="device-connectivity">
              {c.active ? 'active' : 'inactive'}
            </span>
            {d.problem && (
              <>
                {' '}
                <span className="badge error">error</span>
              </>
            )}
          </h1>
          <p>
            {d.role === 'edge' ? 'edge node' : `end device serving camera view ${d.view ?? '–'}`} · {d.adminState}
            {d.tags.map((t) => (
              <span key={t} className="badge tag">
                {t}
              </span>
            ))}
          </p>
        </div>
        <Link href="/devices">
          <button type="button" className="secondary">
            All devices
          </button>
        </Link>
      </div>
      {d.problem && (
        <div className="note error" role="alert" data-testid="device-problem">
          The agent reports: {d.problem}
        </div>
      )}
      <div className="grid cols-2">
        <Card title="Identity">
          <dl className="kv">
            <dt>Id</dt>
            <dd className="mono">{d.id}</dd>
            <dt>Profile</dt>
            <dd className="mono">{d.profileId}</dd>
            <dt>Role · view</dt>
            <dd>
              {d.role} · {d.view ?? '–'}
            </dd>
            <dt>Token</dt>
            <dd>{d.hasToken ? 'issued' : 'revoked'}</dd>
            <dt>Deployed section</dt>
            <dd>{d.deployed ? `${d.deployed.section} of ${d.deployed.modelId} ${d.deployed.modelVersion}` : 'none'}</dd>
            <dt>Registered</dt>
            <dd>{fmtTime(d.createdAt)}</dd>
          </dl>
        </Card>
        <Card title="Connectivity">
          <dl className="kv">
            <dt>Now</dt>
            <dd>
              {c.active ? 'active' : 'inactive'}
              {c.node ? ` on ${c.node}` : ''}
            </dd>
            <dt>Last seen</dt>
            <dd>{fmtAgo(c.lastActivityAt)}</dd>
            <dt>Last connect</dt>
            <dd>{fmtTime(c.lastConnectAt)}</dd>
            <dt>Last disconnect</dt>
            <dd>
              {fmtTime(c.lastDisconnectAt)}
              {d.log?.lastDisconnectReason ? ` (${d.log.lastDisconnectReason})` : ''}
            </dd>
            <dt>Connects · disconnects</dt>
            <dd data-testid="device-links">{d.log ? `${d.log.connects} · ${d.log.disconnects}` : '–'}</dd>
            <dt title="A skipped capture (nothing captured) is not a miss: the miss rate counts answered and missed requests only, as device_miss_rate does">
              Answered · missed · not captured
            </dt>
            <dd data-testid="device-answers">{d.log ? `${d.log.answered} · ${d.log.missed} · ${d.log.notCaptured}` : '–'}</dd>
            <dt>Miss rate</dt>
            <dd data-testid="device-miss-rate">{d.log ? fmtPct(d.log.missRate) : '–'}</dd>
          </dl>
        </Card>
      </div>
      <DeviceOverTime deviceId={d.id} />
      <AlertsList query={{ deviceId: d.id }} title="Alerts" empty="No alert has concerned this device." />
      <Actions device={d} onChange={() => (device.reload(), history.reload())} />
      <Card title="History (latest 50 events)">
        {history.error && <ErrorNote error={history.error} what="the history" />}
        {history.data && history.data.length === 0 && <Empty title="No events for this device." />}
        {history.data && history.data.length > 0 && (
          <table data-testid="device-history">
            <thead>
              <tr>
                <th>When</th>
                <th>What</th>
              </tr>
            </thead>
            <tbody>
              {history.data.map((h, i) => (
                <tr key={i}>
                  <td>{fmtTime(h.at)}</td>
                  <td style={{ whiteSpace: 'normal' }}>{historyText(h.type, h.data)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

function Inner() {
  const id = useSearchParams().get('id');
  if (!id)
    return (
      <Empty title="No device chosen.">
        Pick one on the <Link href="/devices">devices</Link> page.
      </Empty>
    );
  return <DeviceDetail key={id} id={id} />;
}

export default function DevicePage() {
  return (
    <Suspense fallback={<Loading what="the device" />}>
      <Inner />
    </Suspense>
  );
}

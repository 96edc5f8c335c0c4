'use client';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import type { AdminState, DeviceListQuery, DeviceRole, DeviceView, ProfileCreatedResponse } from '@ddnn/contracts';
import { Card, Empty, ErrorNote, Loading } from '../../components/ui';
import { api } from '../../lib/api';
import { deviceAgentCommand } from '../../lib/device-command';
import { fmtAgo, fmtTime } from '../../lib/format';
import { useAsync } from '../../lib/use-async';
import { asError } from '../../lib/errors';

const PAGE = 50;

/** A profile name no click repeats: profile names are unique, and an operator may make several a day. */
function newProfileName(): string {
  const rnd = Array.from(crypto.getRandomValues(new Uint8Array(3)), (b) => b.toString(16).padStart(2, '0')).join('');
  return `cameras-${new Date().toISOString().slice(0, 10)}-${rnd}`;
}

function Connectivity({ d, now }: { d: DeviceView; now: number }) {
  const c = d.connectivity;
  return (
    <span title={`connected ${fmtTime(c.lastConnectAt)} · disconnected ${fmtTime(c.lastDisconnectAt)}${c.node ? ` · node ${c.node}` : ''}`}>
      <span className={`badge ${c.active ? 'active' : 'inactive'}`} data-testid="device-connectivity">
        {c.active ? 'active' : 'inactive'}
      </span>{' '}
      <span className="muted">{c.lastActivityAt ? `seen ${fmtAgo(c.lastActivityAt, now)}` : 'never seen'}</span>
    </span>
  );
}

function ConnectDevice() {
  const profiles = useAsync(() => api.profiles(), []);
  const [created, setCreated] = useState<ProfileCreatedResponse | null>(null);
  const [key, setKey] = useState('');
  const [name, setName] = useState('cam-0');
  const [view, setView] = useState('0');
  const [role, setRole] = useState<'end-device' | 'edge'>('end-device');
  const [err, setErr] = useState<Error | null>(null);
  const [copied, setCopied] = useState(false);
  const [server, setServer] = useState('http://localhost:3000');
  useEffect(() => setServer(window.location.origin), []);
  const newProfile = async () => {
    setErr(null);
    try {
      const p = await api.createProfile({ name: newProfileName(), description: 'created from the dashboard' });
      setCreated(p);
      setKey(p.provisioningKey);
      profiles.reload();
    } catch (e) {
      setErr(asError(e));
    }
  };
  const cmd = deviceAgentCommand({ server, profileKey: key || '<PROFILE_KEY>', name, view, role });
  return (
    <Card title="Connect a new device">
      <p className="muted" style={{ marginTop: 0 }}>
        A device provisions itself with a device profile&apos;s provisioning key, keeps the token it gets, and connects. The key is shown
        once, when the profile is created. Run the command from the repository root: the agent reads its camera view from the datasets
        npm start keeps in .data/datasets{profiles.data ? ` (${profiles.data.length} profile${profiles.data.length === 1 ? '' : 's'} exist)` : ''}.
      </p>
      <div className="toolbar">
        <label>
          Provisioning key
          <input value={key} onChange={(e) => setKey(e.target.value)} placeholder="paste a profile key" style={{ width: 260 }} />
        </label>
        <button type="button" className="secondary" onClick={newProfile} style={{ alignSelf: 'flex-end' }}>
          New profile + key
        </button>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} style={{ width: 120 }} />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as 'end-device' | 'edge')}>
            <option value="end-device">end device</option>
            <option value="edge">edge node</option>
          </select>
        </label>
        {role === 'end-device' && (
          <label>
            Camera view
            <input value={view} onChange={(e) => setView(e.target.value)} style={{ width: 70 }} />
          </label>
        )}
      </div>
      {created && (
        <p className="note">
          Profile <strong>{created.name}</strong> created. Its key is in the command below: it will not be shown again.
        </p>
      )}
      {err && <ErrorNote error={err} action="create" what="a profile" />}
      <div className="copy">
        <pre data-testid="device-command">{cmd}</pre>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            void navigator.clipboard?.writeText(cmd).then(() => {
              setCopied(true);
              setTimeout(() => setCopied(false), 1500);
            });
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </Card>
  );
}

export default function DevicesPage() {
  const [q, setQ] = useState<DeviceListQuery>({ limit: PAGE, offset: 0 });
  const [name, setName] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<Error | null>(null);
  // Debounce typing so a fleet of thousands is filtered server-side without a request per key.
  useEffect(() => {
    const t = setTimeout(() => setQ((x) => (x.name === (name.trim() || undefined) ? x : { ...x, name: name.trim() || undefined, offset: 0 })), 250);
    return () => clearTimeout(t);
  }, [name]);
  const list = useAsync(() => api.devices(q), [JSON.stringify(q)], 5000);
  const now = Date.now();
  const setAdmin = async (d: DeviceView, adminState: AdminState) => {
    setBusy(d.id);
    setActionError(null);
    try {
      await api.updateDevice(d.id, { adminState });
      list.reload();
    } catch (e) {
      setActionError(asError(e));
    } finally {
      setBusy(null);
    }
  };
  const remove = async (d: DeviceView) => {
    if (!window.confirm(`Delete ${d.name}? It is disconnected and leaves the registry; its events stay in the log.`)) return;
    setBusy(d.id);
    setActionError(null);
    try {
      await api.deleteDevice(d.id);
      list.reload();
    } catch (e) {
      setActionError(asError(e));
    } finally {
      setBusy(null);
    }
  };
  const filter = <K extends keyof DeviceListQuery>(k: K, v: DeviceListQuery[K]) => setQ((x) => ({ ...x, [k]: v, offset: 0 }));
  const data = list.data;
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>Devices</h1>
          <p>End devices (cameras) and edge nodes: operator intent (locked/unlocked) apart from observed connectivity.</p>
        </div>
      </div>
      <Card>
        <div className="toolbar">
          <input placeholder="Name contains…" value={name} onChange={(e) => setName(e.target.value)} aria-label="name filter" />
          <select aria-label="role" value={q.role ?? ''} onChange={(e) => filter('role', (e.target.value || undefined) as DeviceRole | undefined)}>
            <option value="">any role</option>
            <option value="end-device">end devices</option>
            <option value="edge">edge nodes</option>
          </select>
          <select aria-label="connectivity" value={q.active === undefined ? '' : String(q.active)} onChange={(e) => filter('active', e.target.value === '' ? undefined : e.target.value === 'true')}>
            <option value="">any connectivity</option>
            <option value="true">active</option>
            <option value="false">inactive</option>
          </select>
          <select aria-label="admin state" value={q.adminState ?? ''} onChange={(e) => filter('adminState', (e.target.value || undefined) as AdminState | undefined)}>
            <option value="">locked or unlocked</option>
            <option value="unlocked">unlocked</option>
            <option value="locked">locked</option>
          </select>
          <input placeholder="Tag" value={q.tag ?? ''} onChange={(e) => filter('tag', e.target.value.trim() || undefined)} aria-label="tag filter" style={{ width: 110 }} />
          <select aria-label="kind" value={q.simulated === undefined ? '' : String(q.simulated)} onChange={(e) => filter('simulated', e.target.value === '' ? undefined : e.target.value === 'true')}>
            <option value="">real or simulated</option>
            <option value="false">real</option>
            <option value="true">simulated</option>
          </select>
          <span className="grow" />
          {data && <span className="muted">{data.total === 1 ? '1 device' : `${data.total} devices`}</span>}
        </div>
        {actionError && <ErrorNote error={actionError} action="change" what="the device" />}
        {list.error && <ErrorNote error={list.error} what="devices" onRetry={list.reload} />}
        {!data && list.loading && <Loading what="devices" />}
        {data && data.items.length === 0 && (
          <Empty title={q.name || q.tag || q.role || q.active !== undefined || q.adminState || q.simulated !== undefined ? 'No device matches these filters.' : 'No devices registered yet.'}>
            Connect one with the command below (run it from the repository root, where npm start keeps .data/datasets), or start a session with simulated devices.
          </Empty>
        )}
        {data && data.items.length > 0 && (
          <div className="table-wrap">
            <table data-testid="devices-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Role</th>
                  <th className="num">View</th>
                  <th>Admin state</th>
                  <th>Connectivity</th>
                  <th>Model</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {data.items.map((d) => (
                  <tr key={d.id} data-device={d.id} data-name={d.name}>
                    <td title={d.id} style={{ whiteSpace: 'normal' }}>
                      <Link href={`/device?id=${d.id}`}>{d.name}</Link> {d.simulated && <span className="badge sim">simulated</span>}
                      {!d.hasToken && <span className="badge inactive">token revoked</span>}
                      {d.tags.map((t) => (
                        <span key={t} className="badge tag">
                          {t}
                        </span>
                      ))}
                      {d.problem && (
                        <div className="device-problem" data-testid="device-problem" role="alert">
                          {d.problem}
                        </div>
                      )}
                    </td>
                    <td>{d.role}</td>
                    <td className="num">{d.view ?? '–'}</td>
                    <td>
                      <span className={`badge ${d.adminState === 'locked' ? 'locked' : ''}`}>{d.adminState}</span>
                    </td>
                    <td>
                      <Connectivity d={d} now={now} />
                      {d.problem && (
                        <>
                          {' '}
                          <span className="badge error" data-testid="device-error">
                            error
                          </span>
                        </>
                      )}
                    </td>
                    <td>{d.deployed ? `${d.deployed.modelId} v${d.deployed.modelVersion} · ${d.deployed.section}` : <span className="muted">none</span>}</td>
                    <td>
                      {d.adminState === 'locked' ? (
                        <button type="button" className="secondary" disabled={busy === d.id} onClick={() => setAdmin(d, 'unlocked')}>
                          Unlock
                        </button>
                      ) : (
                        <button type="button" className="danger" disabled={busy === d.id} onClick={() => setAdmin(d, 'locked')}>
                          Lock
                        </button>
                      )}{' '}
                      <button type="button" className="secondary" disabled={busy === d.id} onClick={() => remove(d)}>
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {data && data.total > PAGE && (
          <div className="pager">
            {data.offset + 1}–{Math.min(data.offset + PAGE, data.total)} of {data.total}
            <button type="button" className="secondary" disabled={data.offset === 0} onClick={() => setQ((x) => ({ ...x, offset: Math.max(0, (x.offset ?? 0) - PAGE) }))}>
              Previous
            </button>
            <button type="button" className="secondary" disabled={data.offset + PAGE >= data.total} onClick={() => setQ((x) => ({ ...x, offset: (x.offset ?? 0) + PAGE }))}>
              Next
            </button>
          </div>
        )}
      </Card>
      <ConnectDevice />
    </>
  );
}

'use client';
import { useEffect, useState } from 'react';
import type { AdminState, DeviceListQuery, DeviceRole, DeviceView } from '@ddnn/contracts';
import { ConnectDevice } from '../../components/devices/connect-device';
import { DeviceRow } from '../../components/devices/device-row';
import { Card, Empty, ErrorNote, Loading } from '../../components/ui';
import { api } from '../../lib/api';
import { useAction } from '../../lib/use-action';
import { useAsync } from '../../lib/use-async';

const PAGE = 50;

export default function DevicesPage() {
  const [q, setQ] = useState<DeviceListQuery>({ limit: PAGE, offset: 0 });
  const [name, setName] = useState('');
  // Debounce typing so a fleet of thousands is filtered server-side without a request per key.
  useEffect(() => {
    const t = setTimeout(() => setQ((x) => (x.name === (name.trim() || undefined) ? x : { ...x, name: name.trim() || undefined, offset: 0 })), 250);
    return () => clearTimeout(t);
  }, [name]);
  const list = useAsync(() => api.devices(q), [JSON.stringify(q)], 5000);
  const now = Date.now();
  const action = useAction(list.reload);
  // Which device the running action is on: only its buttons wait.
  const [acting, setActing] = useState<string | null>(null);
  const act = (d: DeviceView, what: () => Promise<unknown>) => {
    setActing(d.id);
    return action.run(what);
  };
  const remove = (d: DeviceView) => {
    if (!window.confirm(`Delete ${d.name}? It is disconnected and leaves the registry; its events stay in the log.`)) return;
    return act(d, () => api.deleteDevice(d.id));
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
        {action.error && <ErrorNote error={action.error} action="change" what="the device" />}
        {list.error && <ErrorNote error={list.error} what="devices" onRetry={list.reload} />}
        {!data && list.loading && <Loading what="devices" />}
        {data && data.items.length === 0 && (
          <Empty title={q.name || q.tag || q.role || q.active !== undefined || q.adminState || q.simulated !== undefined ? 'No device matches these filters.' : 'No devices registered yet.'}>
            Connect one with the command below (run it from the repository root, where npm start keeps .data/datasets; an API given another DDNN_DATA_DIR keeps them in its datasets folder), or start a session with simulated devices.
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
                  <DeviceRow key={d.id} device={d} now={now} busy={action.busy && acting === d.id} onAdmin={(a) => act(d, () => api.updateDevice(d.id, { adminState: a }))} onDelete={() => remove(d)} />
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

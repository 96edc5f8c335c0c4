import Link from 'next/link';
import type { AdminState, DeviceView } from '@ddnn/contracts';
import { fmtAgo, fmtTime } from '../../lib/format';

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

/** A registered device: identity, tags and problem, admin state apart from connectivity, its model, lock and delete. */
export function DeviceRow(props: { device: DeviceView; now: number; busy: boolean; onAdmin: (a: AdminState) => void; onDelete: () => void }) {
  const { device: d, now, busy, onAdmin, onDelete } = props;
  return (
    <tr data-device={d.id} data-name={d.name}>
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
          <button type="button" className="secondary" disabled={busy} onClick={() => onAdmin('unlocked')}>
            Unlock
          </button>
        ) : (
          <button type="button" className="danger" disabled={busy} onClick={() => onAdmin('locked')}>
            Lock
          </button>
        )}{' '}
        <button type="button" className="secondary" disabled={busy} onClick={onDelete}>
          Delete
        </button>
      </td>
    </tr>
  );
}

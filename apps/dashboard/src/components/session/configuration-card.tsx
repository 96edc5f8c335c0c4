import type { SessionView } from '@ddnn/contracts';
import { Card } from '../ui';
import { DeviceName, type DeviceNames } from '../../lib/device-names';
import { livePolicyLabel } from '../../lib/policy';

/** The configuration recorded when the session was created (also in its SessionStarted event). */
export function ConfigurationCard({ session, names }: { session: SessionView; names: DeviceNames }) {
  const c = session.configuration;
  return (
    <Card title="Configuration">
      <dl className="kv" data-testid="session-configuration">
        <dt>Model · dataset</dt>
        <dd>
          {session.modelId} · {session.dataset}/{session.split}
          {session.limit !== null ? ` (first ${session.limit})` : ''}
        </dd>
        <dt>Policy · mode · deadline</dt>
        <dd>
          {livePolicyLabel(session.policy)} · {session.mode} · {session.deadlineMs} ms
        </dd>
        <dt>Rate</dt>
        <dd>{session.rate !== null ? `${session.rate} samples/s at most` : 'as fast as the pipeline allows'}</dd>
        <dt>Link</dt>
        <dd data-testid="config-link">
          {!c ? 'not recorded (older session)' : c.link ? `${c.link.latencyMs} ms latency, ${c.link.bandwidthKbps} kbit/s` : 'none simulated'}
        </dd>
        <dt>Injected failures</dt>
        <dd data-testid="config-failures">
          {!c ? 'not recorded' : c.failures.length === 0 ? 'none' : c.failures.map((f) => `${f.kind} on device #${f.device} from sample ${f.atSample}`).join('; ')}
        </dd>
        <dt>Devices</dt>
        <dd style={{ whiteSpace: 'normal' }}>
          {session.topology.devices.map((d, i) => (
            <span key={d.deviceId}>
              {i > 0 && ', '}
              <DeviceName id={d.deviceId} names={names} /> <span className="muted">(view {d.view})</span>
            </span>
          ))}
        </dd>
      </dl>
    </Card>
  );
}

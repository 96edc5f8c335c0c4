'use client';
import { isDeviceMiss, type SampleViews, type SessionTopology } from '@ddnn/contracts';
import { AuthedImage } from '../authed-image';
import { ScoreBars } from '../scores';
import { Card, Stat } from '../ui';
import { api } from '../../lib/api';
import { className, fmtBytes, shortId } from '../../lib/format';
import { aggregatedSections, liveCheck, type ReplayModel, type SampleFrame } from '../../lib/replay';
import { type AsyncState, useAsync } from '../../lib/use-async';
import { DeviceName, deviceLabel, type DeviceNames, useDeviceNames } from '../../lib/device-names';

function ViewImage({ dataset, sampleId, view }: { dataset: string; sampleId: string; view: number }) {
  return <AuthedImage className="view-img" alt={`view ${view} of sample ${sampleId}`} load={() => api.viewImage(dataset, sampleId, view)} deps={[dataset, sampleId, view]} />;
}

/** The sample at a glance: its label, where it exited and why, its answer and what it cost. */
function SampleStats({ frame, classes }: { frame: SampleFrame; classes: string[] }) {
  const exit = frame.exit!;
  // The frame's label, not the exit's: a stream's exit is logged unlabelled and its label comes later.
  const right = frame.label !== null && exit.prediction === frame.label;
  return (
    <div className="stats">
      <Stat label="Sample" testId="replay-sample" value={<span data-testid="replay-sample-index">{frame.sampleIndex}</span>} sub={`id ${frame.sampleId}`} />
      <Stat label="Label" testId="replay-label" value={className(classes, frame.label)} />
      <Stat
        label="Exited at"
        testId="replay-exit"
        value={
          <span className={`badge tier-${exit.tier}`} data-testid="replay-exit-tier" style={{ fontSize: 16 }}>
            {exit.tier}
          </span>
        }
        sub={
          <span data-testid="replay-eta">
            η = {exit.eta.toFixed(3)} {exit.threshold === null ? '(last exit: always answers)' : `${exit.eta < exit.threshold ? '<' : '≥'} T = ${exit.threshold}`}
          </span>
        }
      />
      <Stat
        label="Prediction"
        value={<span data-testid="replay-prediction">{className(classes, exit.prediction)}</span>}
        sub={frame.label === null ? 'no label' : right ? '✓ right' : '✗ wrong'}
      />
      <Stat label="Bytes for this sample" value={<span data-testid="replay-bytes">{fmtBytes(frame.bytes)}</span>} sub={`${frame.transfers.filter((t) => !t.shadow).length} messages`} />
    </div>
  );
}

/** The camera view a device scored: its image when the run's dataset stores one, else why there is none. */
function DeviceView({ dataset, sampleId, view, views }: { dataset: string; sampleId: string; view: number; views: AsyncState<SampleViews | null> }) {
  // A stream's captures come from live sources and are not stored: only a dataset run has images to show.
  if (dataset === '') return <div className="view-img">live capture (not stored)</div>;
  if (!views.data || views.data.sampleId !== sampleId)
    return (
      <div className="view-img" aria-busy={!views.error}>
        {views.error ? 'no image' : ''}
      </div>
    );
  if (!views.data.captured.includes(view)) return <div className="view-img">not captured</div>;
  return <ViewImage dataset={dataset} sampleId={sampleId} view={view} />;
}

function DeviceTile(props: { device: SessionTopology['devices'][number]; frame: SampleFrame; dataset: string; classes: string[]; names: DeviceNames; views: AsyncState<SampleViews | null> }) {
  const { device: d, frame, classes } = props;
  const s = [...frame.sections, ...frame.shadowSections].find((x) => x.tier === 'device' && x.node === d.deviceId);
  const logged = frame.missed.find((m) => m.deviceId === d.deviceId);
  // A skipped capture is the camera's (nothing to answer), not a failure of the device: not marked as a miss.
  const miss = logged && isDeviceMiss(logged.reason) ? logged : undefined;
  const skipped = logged && !miss ? logged : undefined;
  return (
    <div className={`view-tile ${miss ? 'missed' : ''}`} data-testid="replay-device" data-view={d.view}>
      <DeviceView dataset={props.dataset} sampleId={frame.sampleId} view={d.view} views={props.views} />
      <strong>view {d.view}</strong>
      <div className="muted">
        <DeviceName id={d.deviceId} names={props.names} />
      </div>
      {s && <div className="muted">η {s.entropy.toFixed(3)}</div>}
      {miss && (
        <div style={{ color: 'var(--bad)' }} data-testid="replay-missed">
          missed {miss.stage} ({miss.reason})
        </div>
      )}
      {skipped && (
        <div className="muted" data-testid="replay-not-captured">
          capture skipped: no {skipped.stage} to send
        </div>
      )}
      <div style={{ clear: 'both' }} />
      {s ? <ScoreBars probabilities={s.probabilities} classes={classes} /> : !logged && <div className="muted">no scores logged</div>}
    </div>
  );
}

function AggregatedCard({ frame, classes }: { frame: SampleFrame; classes: string[] }) {
  const sections = aggregatedSections(frame);
  return (
    <Card title="Aggregated scores and exits">
      {sections.length === 0 && <p className="muted">No aggregated section was logged.</p>}
      {sections.map((s) => {
        const check = liveCheck(frame, s.tier === 'device' ? 'local' : s.tier);
        return (
          <div key={`${s.tier}-${s.node}-${s.shadow}`} style={{ marginBottom: 10 }} data-testid={`replay-agg-${s.tier}`}>
            <div>
              <span className={`badge tier-${s.tier}`}>{s.node}</span> η = {s.entropy.toFixed(3)}
              {check && check.threshold !== null ? ` vs T = ${check.threshold}` : ''}
              {s.shadow && <span className="muted"> · shadow (research mode)</span>}
              {check && <span className="muted"> · {check.exited ? 'exited here' : 'went on'}</span>}
            </div>
            <ScoreBars probabilities={s.probabilities} classes={classes} />
          </div>
        );
      })}
    </Card>
  );
}

function LinksCard({ frame, names }: { frame: SampleFrame; names: DeviceNames }) {
  return (
    <Card title="Bytes on each link">
      {frame.transfers.length === 0 ? (
        <p className="muted">No transfer logged for this sample.</p>
      ) : (
        <table data-testid="replay-links">
          <thead>
            <tr>
              <th>Link</th>
              <th>Payload</th>
              <th className="num">Bytes</th>
            </tr>
          </thead>
          <tbody>
            {frame.transfers.map((t, i) => (
              <tr key={i} className={t.shadow ? 'dominated' : undefined}>
                <td className="mono">
                  {names.has(t.from) ? deviceLabel(t.from, names) : t.from.length > 12 ? shortId(t.from) : t.from} → {t.to}
                </td>
                <td>
                  {t.kind}
                  {t.shadow ? ' (shadow)' : ''}
                </td>
                <td className="num">{t.bytes}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <MissedNote frame={frame} />
    </Card>
  );
}

/** The sample's missed devices, and apart from them the views its cameras did not capture. */
function MissedNote({ frame }: { frame: SampleFrame }) {
  const missed = frame.missed.filter((m) => isDeviceMiss(m.reason));
  const skipped = frame.missed.filter((m) => !isDeviceMiss(m.reason));
  return (
    <>
      {missed.length > 0 && <p className="muted">Missed devices: {missed.map((m) => `view ${m.view} (${m.stage}, ${m.reason})`).join(', ')}</p>}
      {skipped.length > 0 && <p className="muted">Not captured: {skipped.map((m) => `view ${m.view} (${m.stage})`).join(', ')}</p>}
    </>
  );
}

/** One decided sample of a replay: each device's view and scores, the aggregated exits and the bytes on each link. */
export function SamplePanel({ model, frame }: { model: ReplayModel; frame: SampleFrame }) {
  const started = model.started!;
  // Ask which views exist before asking for images: an uncaptured view has none (no 404s in the console).
  const views = useAsync(() => (started.dataset !== '' ? api.sampleViews(started.dataset, frame.sampleId) : Promise.resolve(null)), [started.dataset, frame.sampleId]);
  const names = useDeviceNames(
    started.topology.devices.map((d) => d.deviceId),
    started.configuration,
  );
  return (
    <>
      <SampleStats frame={frame} classes={started.classes} />
      <div className="grid side">
        <Card title="Devices: each view and its class scores">
          <div className="views">
            {started.topology.devices.map((d) => (
              <DeviceTile key={d.deviceId} device={d} frame={frame} dataset={started.dataset} classes={started.classes} names={names} views={views} />
            ))}
          </div>
        </Card>
        <div className="stack">
          <AggregatedCard frame={frame} classes={started.classes} />
          <LinksCard frame={frame} names={names} />
        </div>
      </div>
    </>
  );
}

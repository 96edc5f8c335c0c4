'use client';
import { useEffect, useState } from 'react';
import type { SessionConfiguration } from '@ddnn/contracts';
import { api } from './api';
import { shortId } from './format';

export interface DeviceIdentity {
  name: string;
  simulated: boolean;
}
export type DeviceNames = ReadonlyMap<string, DeviceIdentity>;

/** Names recorded with a session (SessionStarted / the session's configuration): they outlive deleted devices. */
export function namesFromConfiguration(c: SessionConfiguration | null | undefined): Map<string, DeviceIdentity> {
  return new Map((c?.devices ?? []).map((d) => [d.deviceId, { name: d.name, simulated: d.simulated }]));
}

/**
 * Names for device ids: the session's recorded ones first, then the registry for any it lacks (sessions
 * logged before names were recorded). Ids the registry no longer knows stay as short ids.
 */
export function useDeviceNames(ids: string[], recorded: SessionConfiguration | null | undefined): DeviceNames {
  const [names, setNames] = useState<Map<string, DeviceIdentity>>(() => namesFromConfiguration(recorded));
  const key = ids.join(',');
  useEffect(() => {
    const known = namesFromConfiguration(recorded);
    setNames(known);
    const missing = ids.filter((id) => !known.has(id) && /^[0-9a-f-]{36}$/i.test(id));
    if (!missing.length) return;
    let live = true;
    void Promise.all(missing.map((id) => api.device(id).then((d) => [id, { name: d.name, simulated: d.simulated }] as const, () => null))).then((found) => {
      if (!live) return;
      const next = new Map(known);
      for (const f of found) if (f) next.set(f[0], f[1]);
      setNames(next);
    });
    return () => {
      live = false;
    };
  }, [key, recorded]);
  return names;
}

/** A device as operators know it: its name, marked when simulated; the id on hover. */
export function DeviceName({ id, names }: { id: string; names: DeviceNames }) {
  const d = names.get(id);
  return (
    <span title={id} data-testid="device-name">
      {d ? d.name : <span className="mono">{shortId(id)}</span>}
      {d?.simulated && (
        <>
          {' '}
          <span className="badge sim" title="simulated in the server">
            sim
          </span>
        </>
      )}
    </span>
  );
}

/** Plain-text label (charts, CSV): `name (sim)`. */
export function deviceLabel(id: string, names: DeviceNames): string {
  const d = names.get(id);
  return d ? `${d.name}${d.simulated ? ' (sim)' : ''}` : shortId(id);
}

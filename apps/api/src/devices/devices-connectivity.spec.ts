import type { NewEvent } from '@ddnn/contracts';
import type { AppConfig } from '../config/config';
import type { NodePresence } from '../database/node-presence';
import type { ProfilesService } from '../profiles/profiles.service';
import type { DeviceEventLog } from './device-event-log';
import type { DevicesRepository } from './devices.repository';
import { DevicesService } from './devices.service';

/** A connection refused, as pg reports a database that is restarting. */
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

/** A DevicesService whose row updates and event appends fail with an outage the first `failures` times each. */
function service(failures: { updates: number; appends: number }) {
  const updates: Record<string, unknown>[] = [];
  const appended: NewEvent[] = [];
  let updateFailures = failures.updates;
  let appendFailures = failures.appends;
  const repo = {
    update: async (_id: string, fields: Record<string, unknown>) => {
      if (updateFailures-- > 0) throw refused();
      updates.push(fields);
    },
  } as unknown as DevicesRepository;
  const events = {
    append: async (_id: string, e: NewEvent[]) => {
      if (appendFailures-- > 0) throw refused();
      appended.push(...e);
    },
    appendQuietly: async (_id: string, e: NewEvent[]) => {
      if (appendFailures-- > 0) return;
      appended.push(...e);
    },
  } as unknown as DeviceEventLog;
  const config = { DDNN_DB_OUTAGE_LIMIT_MS: 10_000 } as AppConfig;
  const devices = new DevicesService(repo, {} as ProfilesService, events, config, 'node-a', {} as NodePresence);
  return { devices, updates, appended };
}

describe("a live socket's connectivity through a database outage", () => {
  it('writes a connect that met a restarting database once it is back: row and event, the event once', async () => {
    const { devices, updates, appended } = service({ updates: 2, appends: 1 });
    await devices.connected('dev-1', '10.0.0.9', { throughOutage: true });
    // The row was written (the third attempt), and after it the event, whose first append failed.
    expect(updates.map((u) => u.active)).toEqual([true, true]);
    expect(appended.map((e) => e.type)).toEqual(['DeviceConnected']);
    await devices.disconnected('dev-1', 'socket closed', { throughOutage: true });
    expect(appended.map((e) => e.type)).toEqual(['DeviceConnected', 'DeviceDisconnected']);
    expect(appended[0].eventId).toEqual(expect.any(String));
  });

  it('keeps one event id across attempts, so an append whose answer was lost is not written twice', async () => {
    const ids: (string | undefined)[] = [];
    const { devices } = service({ updates: 0, appends: 0 });
    const events = (devices as unknown as { events: { append: (id: string, e: NewEvent[]) => Promise<void> } }).events;
    let calls = 0;
    events.append = async (_id, e) => {
      ids.push(e[0].eventId);
      if (calls++ < 2) throw refused();
    };
    await devices.connected('dev-1', null, { throughOutage: true });
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
  });

  it('without throughOutage (a shutdown, a simulation) a failure is not retried: the caller hears of it at once', async () => {
    const { devices, updates } = service({ updates: 1, appends: 0 });
    await expect(devices.connected('dev-1', null)).rejects.toThrow(/ECONNREFUSED/);
    expect(updates).toEqual([]);
  });
});

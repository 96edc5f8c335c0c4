import { isDeviceMiss, sampleSections, type DeviceStatus, type SectionOutput, type StoredEvent } from '@ddnn/contracts';
import { sessionOf } from './session-summary';

/** A live device section: what a device's `answered` counts. */
const answeredLive = (x: SectionOutput): boolean => x.tier === 'device' && !x.shadow;

/** The sections `deviceId` answered live in a SectionEvaluated or SectionsEvaluated event (0 for other events). */
function answeredIn(event: StoredEvent, deviceId: string): number {
  let mine = 0;
  for (const x of sampleSections(event)?.sections ?? []) if (answeredLive(x) && x.node === deviceId) mine += 1;
  return mine;
}

/** The devices an event concerns for the device-status projection (none for most events). */
export function devicesOf(event: StoredEvent): readonly string[] {
  switch (event.type) {
    case 'DeviceRegistered':
    case 'DeviceConnected':
    case 'DeviceDisconnected':
    case 'DeviceWentInactive':
    case 'DeviceBecameActive':
    case 'ModelDeployed':
    case 'DeviceMissed':
      return [event.data.deviceId];
    case 'SectionEvaluated':
    case 'SectionsEvaluated':
      // Once each: a device's every live section in the event is folded from one visit (answeredIn).
      return [...new Set((sampleSections(event)?.sections ?? []).filter(answeredLive).map((x) => x.node))];
    default:
      return [];
  }
}

/** Status of a device known only from other events so far. */
export function emptyDeviceStatus(deviceId: string): DeviceStatus {
  return {
    deviceId,
    name: deviceId,
    role: null,
    view: null,
    profileId: null,
    simulated: false,
    registered: false,
    connectivity: 'never-connected',
    node: null,
    registeredAt: null,
    lastConnectAt: null,
    lastDisconnectAt: null,
    lastDisconnectReason: null,
    lastActivityAt: null,
    sections: [],
    answered: 0,
    missed: 0,
    notCaptured: 0,
    connects: 0,
    disconnects: 0,
    checkpoint: null,
  };
}

/**
 * Applies a batch's events about one device to its status (pure): one copy of the status per batch, not per event
 * (a session's devices answer every sample, and a structured clone per event was most of the projection's CPU).
 */
export function foldDeviceEvents(prev: DeviceStatus, events: readonly StoredEvent[]): DeviceStatus {
  const s: DeviceStatus = structuredClone(prev);
  for (const e of events) applyInPlace(s, e);
  return s;
}

function applyInPlace(s: DeviceStatus, event: StoredEvent): void {
  s.checkpoint = event.checkpoint;
  const at = event.createdAt;
  switch (event.type) {
    case 'DeviceRegistered': {
      const d = event.data;
      Object.assign(s, { name: d.name, role: d.role, view: d.view, profileId: d.profileId, simulated: d.simulated });
      s.registered = true;
      s.registeredAt = at;
      break;
    }
    case 'DeviceConnected':
      s.connectivity = 'active';
      s.node = event.data.node;
      s.lastConnectAt = at;
      s.lastActivityAt = at;
      s.connects += 1;
      break;
    case 'DeviceDisconnected':
      s.connectivity = 'disconnected';
      s.node = null;
      s.lastDisconnectAt = at;
      s.lastDisconnectReason = event.data.reason;
      s.disconnects += 1;
      break;
    case 'DeviceWentInactive':
      if (s.connectivity === 'active') s.connectivity = 'inactive';
      break;
    case 'DeviceBecameActive':
      if (s.connectivity === 'inactive') s.connectivity = 'active';
      s.node = event.data.node;
      s.lastActivityAt = at;
      break;
    case 'ModelDeployed': {
      const d = event.data;
      s.sections = s.sections.filter((x) => x.section !== d.section);
      s.sections.push({ section: d.section, modelId: d.modelId, modelVersion: d.modelVersion, bytes: d.bytes, deployedAt: at });
      s.sections.sort((a, b) => a.section.localeCompare(b.section));
      s.lastActivityAt = at;
      break;
    }
    case 'SectionEvaluated':
    case 'SectionsEvaluated': {
      // A sample's sections of every device are one event: this device's are the ones it answered live.
      const mine = answeredIn(event, s.deviceId);
      if (mine === 0) break;
      s.answered += mine;
      s.lastActivityAt = at;
      if (s.connectivity === 'inactive') s.connectivity = 'active';
      break;
    }
    case 'DeviceMissed':
      s.missed += 1;
      if (!isDeviceMiss(event.data.reason)) s.notCaptured += 1;
      break;
    default:
      break;
  }
}

/** A device's `answered`, `missed` and `notCaptured` counted from one run's events. */
export interface DeviceRunTally {
  deviceId: string;
  runId: string;
  answered: number;
  missed: number;
  notCaptured: number;
}

/**
 * What a batch adds to each device's counters, by run (key `deviceId` NUL `runId`): the share of `answered` and
 * `missed` that deleting the run takes back (foldDeviceEvents counts the same events into the lifetime totals).
 */
export function deviceRunTallies(events: readonly StoredEvent[]): Map<string, DeviceRunTally> {
  const tallies = new Map<string, DeviceRunTally>();
  const tally = (deviceId: string, runId: string): DeviceRunTally => {
    const key = `${deviceId}\u0000${runId}`;
    let t = tallies.get(key);
    if (!t) tallies.set(key, (t = { deviceId, runId, answered: 0, missed: 0, notCaptured: 0 }));
    return t;
  };
  for (const e of events) {
    if (e.type !== 'SectionEvaluated' && e.type !== 'SectionsEvaluated' && e.type !== 'DeviceMissed') continue;
    const runId = sessionOf(e);
    if (runId === null) continue;
    if (e.type === 'DeviceMissed') {
      const t = tally(e.data.deviceId, runId);
      t.missed += 1;
      if (!isDeviceMiss(e.data.reason)) t.notCaptured += 1;
    } else for (const x of sampleSections(e)?.sections ?? []) if (answeredLive(x)) tally(x.node, runId).answered += 1;
  }
  return tallies;
}

/** A device's status without a deleted run's share of its counters (pure). */
export function withoutRunShare(prev: DeviceStatus, share: Pick<DeviceRunTally, 'answered' | 'missed' | 'notCaptured'>): DeviceStatus {
  const less = (total: number | undefined, part: number) => Math.max(0, (total ?? 0) - part);
  return { ...prev, answered: less(prev.answered, share.answered), missed: less(prev.missed, share.missed), notCaptured: less(prev.notCaptured, share.notCaptured) };
}

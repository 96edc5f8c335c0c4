import type { NewEvent } from '@ddnn/contracts';

/** Small, valid events of the catalogue for tests and the benchmark's shape. */
export const ev = {
  sampleStarted: (sessionId: string, sampleIndex: number, label: number | null = sampleIndex % 3): NewEvent<'SampleStarted'> => ({
    type: 'SampleStarted',
    data: { sessionId, sampleIndex, sampleId: `s${sampleIndex}`, label },
  }),
  sessionAborted: (sessionId: string, reason = 'operator'): NewEvent<'SessionAborted'> => ({
    type: 'SessionAborted',
    data: { sessionId, reason, samplesDone: 0 },
  }),
  deviceConnected: (deviceId: string, node = 'api-1'): NewEvent<'DeviceConnected'> => ({
    type: 'DeviceConnected',
    data: { deviceId, node, remoteAddress: null },
  }),
};

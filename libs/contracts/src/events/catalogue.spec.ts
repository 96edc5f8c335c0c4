import { EVENT_SCHEMA_VERSIONS, type EventType, isStreamEventStream, streamIds } from './catalogue';

describe('event catalogue', () => {
  it('gives every event type of the issue a positive schema version', () => {
    const required: EventType[] = [
      'DeviceRegistered',
      'DeviceConnected',
      'DeviceDisconnected',
      'DeviceWentInactive',
      'ModelDeployed',
      'SessionStarted',
      'SampleStarted',
      'SectionEvaluated',
      'SectionsEvaluated',
      'ExitDecided',
      'BytesTransferred',
      'MessagesTransferred',
      'DeviceMissed',
      'SampleUnanswered',
      'SessionCompleted',
      'SessionAborted',
      'AlertRuleCreated',
      'AlertRuleUpdated',
      'AlertRuleDeleted',
      'AlertPending',
      'AlertFiring',
      'AlertResolved',
      'AlertAcknowledged',
      'AlertSilenced',
      'RunDeleted',
    ];
    for (const type of required) expect(EVENT_SCHEMA_VERSIONS[type]).toBeGreaterThanOrEqual(1);
    for (const v of Object.values(EVENT_SCHEMA_VERSIONS)) expect(Number.isInteger(v)).toBe(true);
  });

  it('names streams by kind and id, so one session or device reads as one stream', () => {
    expect(streamIds.session('s1')).toBe('session-s1');
    expect(streamIds.device('d1')).toBe('device-d1');
    expect(streamIds.model('m1')).toBe('model-m1');
    expect(streamIds.alert('r1')).toBe('alert-r1');
    expect([streamIds.run('session', 'r1'), streamIds.run('stream', 'r1')]).toEqual([streamIds.session('r1'), streamIds.stream('r1')]);
    // Kept (not a production stream's): retention never drops what the platform remembers of deleted runs.
    expect(isStreamEventStream(streamIds.runs())).toBe(false);
    expect(new Set([streamIds.session('x'), streamIds.device('x'), streamIds.model('x')]).size).toBe(3);
  });
});

import { negation, ruleSpec, scopeProblem } from './alert-rules.service';
import { backoffMs } from './webhook-dispatcher';
import { newWebhookSecret, signWebhookBody, verifyWebhookSignature } from './webhook-signature';
import { webhookUrlProblem } from './webhooks.service';

describe('webhook signatures, retries and URLs', () => {
  it('signs the raw body with HMAC-SHA256 and verifies it in constant time', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^ddnn_whsec_[A-Za-z0-9_-]{43}$/);
    expect(newWebhookSecret()).not.toBe(secret);
    // The known answer of HMAC-SHA256(key "key", "The quick brown fox jumps over the lazy dog").
    expect(signWebhookBody('key', 'The quick brown fox jumps over the lazy dog')).toBe('sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8');
    const body = JSON.stringify({ event: 'alert.firing' });
    const header = signWebhookBody(secret, body);
    expect(verifyWebhookSignature(secret, body, header)).toBe(true);
    expect(verifyWebhookSignature(secret, `${body} `, header)).toBe(false);
    expect(verifyWebhookSignature(secret, body, undefined)).toBe(false);
    expect(verifyWebhookSignature(secret, body, 'sha256=00')).toBe(false);
  });

  it('backs off exponentially, capped', () => {
    expect([1, 2, 3, 4].map((a) => backoffMs(1000, a))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffMs(1000, 30)).toBe(15 * 60_000);
  });

  it('takes http(s) URLs without credentials only', () => {
    expect(webhookUrlProblem('https://hooks.example.com/x?token=1')).toBeNull();
    expect(webhookUrlProblem('http://127.0.0.1:9000/')).toBeNull();
    for (const bad of ['ftp://h/x', 'file:///etc/passwd', 'https://u:p@h/x', '/relative', '']) expect(webhookUrlProblem(bad)).not.toBeNull();
  });
});

describe('rule specs', () => {
  it('fills the clear condition with the negation of the condition and the window', () => {
    expect(negation({ comparator: '>', threshold: 1 })).toEqual({ comparator: '<=', threshold: 1 });
    expect(negation({ comparator: '<=', threshold: 1 })).toEqual({ comparator: '>', threshold: 1 });
    const spec = ruleSpec({ name: 'n', metric: 'accuracy_estimated', scope: { kind: 'run', runId: 'r1', deviceId: 'ignored' }, condition: { comparator: '<', threshold: 0.8 }, forMs: 0, severity: 'major' });
    expect(spec).toEqual({
      name: 'n',
      description: '',
      metric: 'accuracy_estimated',
      scope: { kind: 'run', runId: 'r1' },
      condition: { comparator: '<', threshold: 0.8 },
      clear: { comparator: '>=', threshold: 0.8 },
      forMs: 0,
      windowMs: 300_000,
      severity: 'major',
      enabled: true,
    });
  });

  it('refuses a metric the scope cannot measure', () => {
    expect(scopeProblem('device_miss_rate', { kind: 'all-devices' })).toBeNull();
    expect(scopeProblem('device_miss_rate', { kind: 'all-runs' })).toBeNull();
    expect(scopeProblem('accuracy_estimated', { kind: 'all-devices' })).toMatch(/not measured per device/);
    expect(scopeProblem('device_inactive', { kind: 'run', runId: 'r' })).toMatch(/per device/);
    expect(() => ruleSpec({ name: 'n', metric: 'device_inactive', scope: { kind: 'device' }, condition: { comparator: '>', threshold: 0 }, forMs: 0, severity: 'minor' })).toThrow(/deviceId is required/);
  });
});

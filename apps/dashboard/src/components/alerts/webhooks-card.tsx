import { type FormEvent, useState } from 'react';
import { ALERT_SEVERITIES, type AlertSeverity, type WebhookCreatedResponse, type WebhookView } from '@ddnn/contracts';
import { api } from '../../lib/api';
import { asError } from '../../lib/errors';
import { fmtTime } from '../../lib/format';
import { useAsync } from '../../lib/use-async';
import { OptionSelect } from '../option-select';
import { Card, Empty, ErrorNote, Loading } from '../ui';

function Deliveries({ webhook }: { webhook: WebhookView }) {
  const d = useAsync(() => api.webhookDeliveries(webhook.id), [webhook.id], 5000);
  if (d.error) return <ErrorNote error={d.error} what="deliveries" />;
  if (!d.data) return <Loading what="deliveries" />;
  if (d.data.items.length === 0) return <p className="muted">No notification sent yet.</p>;
  return (
    <table data-testid="deliveries-table">
      <thead>
        <tr>
          <th>Created</th>
          <th>Event</th>
          <th>Status</th>
          <th>Attempts</th>
        </tr>
      </thead>
      <tbody>
        {d.data.items.map((x) => (
          <tr key={x.id}>
            <td>{fmtTime(x.createdAt)}</td>
            <td>{x.event}</td>
            <td>
              <span className={`badge ${x.status === 'delivered' ? 'active' : x.status === 'failed' ? 'inactive' : ''}`}>{x.status}</span>
              {x.nextAttemptAt && <span className="muted"> next {fmtTime(x.nextAttemptAt)}</span>}
            </td>
            <td>{x.attempts.map((a) => `${a.httpStatus ?? a.error} (${Math.round(a.durationMs)} ms)`).join(', ')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The webhooks alerts are sent to, each with its delivery attempts. */
export function WebhooksCard() {
  const hooks = useAsync(() => api.webhooks(), []);
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [minSeverity, setMinSeverity] = useState<AlertSeverity>('warning');
  const [created, setCreated] = useState<WebhookCreatedResponse | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const add = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      setCreated(await api.createWebhook({ name: name.trim(), url: url.trim(), minSeverity }));
      setName('');
      setUrl('');
      hooks.reload();
    } catch (err) {
      setError(asError(err));
    }
  };
  const remove = async (w: WebhookView) => {
    if (!window.confirm(`Delete the webhook "${w.name}" and its delivery history?`)) return;
    try {
      await api.deleteWebhook(w.id);
      hooks.reload();
    } catch (err) {
      setError(asError(err));
    }
  };
  return (
    <Card title="Webhooks">
      <p className="muted" style={{ marginTop: 0 }}>
        Each firing and resolution is POSTed as JSON, signed: <code>X-DDNN-Signature-256: sha256=HMAC-SHA256(secret, body)</code>. Failed
        attempts are retried with backoff.
      </p>
      <form className="toolbar" onSubmit={add} aria-label="new webhook">
        <label>
          Name
          <input name="webhookName" value={name} onChange={(e) => setName(e.target.value)} style={{ width: 140 }} />
        </label>
        <label className="grow">
          URL
          <input name="webhookUrl" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://…" />
        </label>
        <label>
          From severity
          <OptionSelect name="minSeverity" options={ALERT_SEVERITIES} value={minSeverity} onChange={setMinSeverity} />
        </label>
        <button type="submit" disabled={!name.trim() || !url.trim()} style={{ alignSelf: 'flex-end' }}>
          Add webhook
        </button>
      </form>
      {created && (
        <div className="note" data-testid="webhook-secret">
          Webhook <strong>{created.name}</strong> added. Its signing secret, shown this once: <code>{created.secret}</code>
        </div>
      )}
      {error && <ErrorNote error={error} action="save" what="the webhook" />}
      {hooks.error && <ErrorNote error={hooks.error} what="webhooks" onRetry={hooks.reload} />}
      {hooks.data && hooks.data.length === 0 && <Empty title="No webhooks.">Alerts are only shown on this page until a webhook is added.</Empty>}
      {hooks.data && hooks.data.length > 0 && (
        <div className="table-wrap">
          <table data-testid="webhooks-table">
            <tbody>
              {hooks.data.map((w) => (
                <tr key={w.id}>
                  <td style={{ width: '100%' }}>
                    <strong>{w.name}</strong> <span className="muted">{w.url}</span> <span className={`badge severity-${w.minSeverity}`}>{w.minSeverity}+</span>
                    {open === w.id && <Deliveries webhook={w} />}
                  </td>
                  <td>
                    <div className="row-actions">
                      <button type="button" className="secondary small" onClick={() => setOpen(open === w.id ? null : w.id)}>
                        {open === w.id ? 'Hide deliveries' : 'Deliveries'}
                      </button>
                      <button type="button" className="danger small" onClick={() => remove(w)}>
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

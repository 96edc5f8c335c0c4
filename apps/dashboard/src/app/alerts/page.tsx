'use client';
import { useRouter, useSearchParams } from 'next/navigation';
import { type FormEvent, Suspense, useState } from 'react';
import {
  ALERT_COMPARATORS,
  ALERT_SEVERITIES,
  type AlertComparator,
  type AlertRuleView,
  type AlertScope,
  type AlertSeverity,
  type WebhookCreatedResponse,
  type WebhookView,
} from '@ddnn/contracts';
import { AlertsList } from '../../components/alerts-list';
import { Card, Empty, ErrorNote, Loading } from '../../components/ui';
import {
  ALERT_METRIC_OPTIONS,
  type AlertRuleForm,
  describeCondition,
  emptyRuleForm,
  ruleFormRequest,
  ruleToForm,
  SCOPE_LABELS,
} from '../../lib/alert-rule-form';
import { api } from '../../lib/api';
import { fmtTime, shortId } from '../../lib/format';
import { useAsync } from '../../lib/use-async';

const asError = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));

function scopeText(scope: AlertScope): string {
  if (scope.kind === 'run') return `run ${shortId(scope.runId)}`;
  if (scope.kind === 'device') return `device ${shortId(scope.deviceId)}`;
  return SCOPE_LABELS[scope.kind];
}

function ComparatorSelect({ value, onChange, label }: { value: AlertComparator; onChange: (c: AlertComparator) => void; label: string }) {
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value as AlertComparator)} style={{ width: 64 }}>
      {ALERT_COMPARATORS.map((c) => (
        <option key={c} value={c}>
          {c}
        </option>
      ))}
    </select>
  );
}

/** Creates a rule, or edits one: every field of the rule, checked here and again by the API. */
function RuleEditor({ rule, onDone }: { rule: AlertRuleView | null; onDone: () => void }) {
  const [f, setF] = useState<AlertRuleForm>(() => (rule ? ruleToForm(rule) : emptyRuleForm()));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof AlertRuleForm>(k: K, v: AlertRuleForm[K]) => setF((x) => ({ ...x, [k]: v }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = ruleFormRequest(f);
    if (!r.ok) {
      setErrors(r.errors);
      return;
    }
    setErrors({});
    setBusy(true);
    setError(null);
    try {
      if (rule) await api.updateAlertRule(rule.id, r.request);
      else await api.createAlertRule(r.request);
      onDone();
    } catch (err) {
      setError(asError(err));
    } finally {
      setBusy(false);
    }
  };
  const err = (k: string) => errors[k] && <span className="field-error">{errors[k]}</span>;
  return (
    <Card title={rule ? `Edit rule: ${rule.name}` : 'New alert rule'}>
      <form className="rule-form" onSubmit={submit} aria-label="alert rule" noValidate>
        <label>
          Name
          <input name="name" value={f.name} onChange={(e) => set('name', e.target.value)} />
          {err('name')}
        </label>
        <label>
          Metric
          <select name="metric" value={f.metric} onChange={(e) => set('metric', e.target.value as AlertRuleForm['metric'])}>
            {ALERT_METRIC_OPTIONS.map((m) => (
              <option key={m.value} value={m.value}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          For
          <select name="scopeKind" value={f.scopeKind} onChange={(e) => set('scopeKind', e.target.value as AlertScope['kind'])}>
            {(Object.keys(SCOPE_LABELS) as AlertScope['kind'][]).map((k) => (
              <option key={k} value={k}>
                {SCOPE_LABELS[k]}
              </option>
            ))}
          </select>
          {err('scopeKind')}
        </label>
        {(f.scopeKind === 'run' || f.scopeKind === 'device') && (
          <label>
            {f.scopeKind === 'run' ? 'Run id' : 'Device id'}
            <input name="scopeId" value={f.scopeId} onChange={(e) => set('scopeId', e.target.value)} placeholder="UUID" />
            {err('scopeId')}
          </label>
        )}
        <label>
          Fires when the metric is
          <span className="inline-control">
            <ComparatorSelect label="condition comparator" value={f.comparator} onChange={(c) => set('comparator', c)} />
            <input name="threshold" value={f.threshold} onChange={(e) => set('threshold', e.target.value)} inputMode="decimal" style={{ width: 90 }} />
          </span>
          {err('threshold')}
        </label>
        <label>
          for (seconds)
          <input name="forSeconds" value={f.forSeconds} onChange={(e) => set('forSeconds', e.target.value)} inputMode="numeric" />
          {err('forSeconds')}
        </label>
        <label>
          Resolves when it is
          <span className="inline-control">
            <ComparatorSelect label="clear comparator" value={f.clearComparator} onChange={(c) => set('clearComparator', c)} />
            <input name="clearThreshold" value={f.clearThreshold} onChange={(e) => set('clearThreshold', e.target.value)} inputMode="decimal" style={{ width: 90 }} />
          </span>
          {err('clearThreshold')}
        </label>
        <label>
          Read over (minutes)
          <input name="windowMinutes" value={f.windowMinutes} onChange={(e) => set('windowMinutes', e.target.value)} inputMode="numeric" />
          {err('windowMinutes')}
        </label>
        <label>
          Severity
          <select name="severity" value={f.severity} onChange={(e) => set('severity', e.target.value as AlertSeverity)}>
            {ALERT_SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          <input type="checkbox" name="enabled" checked={f.enabled} onChange={(e) => set('enabled', e.target.checked)} /> Enabled
        </label>
        <label className="wide">
          Description
          <input name="description" value={f.description} onChange={(e) => set('description', e.target.value)} />
        </label>
        <div className="wide row-actions">
          <button type="submit" disabled={busy}>
            {rule ? 'Save rule' : 'Create rule'}
          </button>
          <button type="button" className="secondary" onClick={onDone} disabled={busy}>
            Cancel
          </button>
        </div>
      </form>
      {error && <ErrorNote error={error} action="save" what="the rule" />}
    </Card>
  );
}

function Rules() {
  const rules = useAsync(() => api.alertRules(), [], 10_000);
  const [editing, setEditing] = useState<AlertRuleView | 'new' | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const remove = async (r: AlertRuleView) => {
    if (!window.confirm(`Delete the rule "${r.name}"? Its open alerts resolve; its past alerts stay.`)) return;
    setError(null);
    try {
      await api.deleteAlertRule(r.id);
      rules.reload();
    } catch (e) {
      setError(asError(e));
    }
  };
  return (
    <>
      {editing && (
        <RuleEditor
          key={editing === 'new' ? 'new' : editing.id}
          rule={editing === 'new' ? null : editing}
          onDone={() => {
            setEditing(null);
            rules.reload();
          }}
        />
      )}
      <Card
        title="Rules"
        actions={
          <button type="button" onClick={() => setEditing('new')}>
            New rule
          </button>
        }
      >
        {error && <ErrorNote error={error} action="delete" what="the rule" />}
        {rules.error && <ErrorNote error={rules.error} what="alert rules" onRetry={rules.reload} />}
        {!rules.data && !rules.error && <Loading what="alert rules" />}
        {rules.data && rules.data.length === 0 && <Empty title="No rules.">Create one: an alert needs a rule.</Empty>}
        {rules.data && rules.data.length > 0 && (
          <div className="table-wrap">
            <table data-testid="rules-table">
              <thead>
                <tr>
                  <th>Rule</th>
                  <th>Metric</th>
                  <th>For</th>
                  <th>Fires</th>
                  <th>Resolves</th>
                  <th>Severity</th>
                  <th>Open</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {rules.data.map((r) => (
                  <tr key={r.id} data-testid="rule-row" className={r.enabled ? undefined : 'muted'}>
                    <td title={r.description}>
                      {r.name}
                      {!r.enabled && <span className="badge">disabled</span>}
                      {r.defaultKey && <span className="badge tag">default</span>}
                    </td>
                    <td>{r.metric}</td>
                    <td>{scopeText(r.scope)}</td>
                    <td>{describeCondition(r.condition, r.forMs)}</td>
                    <td>{describeCondition(r.clear)}</td>
                    <td>
                      <span className={`badge severity-${r.severity}`}>{r.severity}</span>
                    </td>
                    <td>{r.openAlerts}</td>
                    <td>
                      <div className="row-actions">
                        <button type="button" className="secondary small" onClick={() => setEditing(r)}>
                          Edit
                        </button>
                        <button type="button" className="danger small" onClick={() => remove(r)}>
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
    </>
  );
}

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

function Webhooks() {
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
          <select name="minSeverity" value={minSeverity} onChange={(e) => setMinSeverity(e.target.value as AlertSeverity)}>
            {ALERT_SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
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

function Inner() {
  const params = useSearchParams();
  const router = useRouter();
  const view = params.get('view') === 'past' ? 'past' : 'open';
  const show = (v: 'open' | 'past') => router.replace(v === 'open' ? '/alerts' : '/alerts?view=past');
  return (
    <>
      <h1>Alerts</h1>
      <div className="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={view === 'open'} className={view === 'open' ? undefined : 'secondary'} onClick={() => show('open')}>
          Open
        </button>
        <button type="button" role="tab" aria-selected={view === 'past'} className={view === 'past' ? undefined : 'secondary'} onClick={() => show('past')}>
          Past
        </button>
      </div>
      {view === 'open' ? (
        <AlertsList query={{ state: 'open' }} title="Open alerts" empty="Nothing is pending or firing." />
      ) : (
        <AlertsList query={{ state: 'resolved' }} title="Past alerts" empty="No alert has resolved yet." pollMs={15_000} />
      )}
      <Rules />
      <Webhooks />
    </>
  );
}

export default function AlertsPage() {
  return (
    <Suspense fallback={<Loading what="alerts" />}>
      <Inner />
    </Suspense>
  );
}

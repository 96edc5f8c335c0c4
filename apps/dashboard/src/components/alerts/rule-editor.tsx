import { type FormEvent, useState } from 'react';
import { ALERT_COMPARATORS, ALERT_SEVERITIES, type AlertRuleView, type AlertScope } from '@ddnn/contracts';
import { ALERT_METRIC_OPTIONS, type AlertRuleForm, emptyRuleForm, ruleFormRequest, ruleToForm, SCOPE_LABELS } from '../../lib/alert-rule-form';
import { api } from '../../lib/api';
import { asError } from '../../lib/errors';
import { OptionSelect } from '../option-select';
import { Card, ErrorNote } from '../ui';

/** Creates a rule, or edits one: every field of the rule, checked here and again by the API. */
export function RuleEditor({ rule, onDone }: { rule: AlertRuleView | null; onDone: () => void }) {
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
            <OptionSelect label="condition comparator" options={ALERT_COMPARATORS} value={f.comparator} onChange={(c) => set('comparator', c)} style={{ width: 64 }} />
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
            <OptionSelect label="clear comparator" options={ALERT_COMPARATORS} value={f.clearComparator} onChange={(c) => set('clearComparator', c)} style={{ width: 64 }} />
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
          <OptionSelect name="severity" options={ALERT_SEVERITIES} value={f.severity} onChange={(s) => set('severity', s)} />
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

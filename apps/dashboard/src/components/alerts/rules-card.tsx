import { useState } from 'react';
import type { AlertRuleView, AlertScope } from '@ddnn/contracts';
import { describeCondition, SCOPE_LABELS } from '../../lib/alert-rule-form';
import { api } from '../../lib/api';
import { asError } from '../../lib/errors';
import { shortId } from '../../lib/format';
import { useAsync } from '../../lib/use-async';
import { Card, Empty, ErrorNote, Loading } from '../ui';
import { RuleEditor } from './rule-editor';

function scopeText(scope: AlertScope): string {
  if (scope.kind === 'run') return `run ${shortId(scope.runId)}`;
  if (scope.kind === 'device') return `device ${shortId(scope.deviceId)}`;
  return SCOPE_LABELS[scope.kind];
}

/** The alert rules, with the editor for a new or an existing one. */
export function RulesCard() {
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

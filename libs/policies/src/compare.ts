import type { CompareRow, LinkModel, PolicySpec } from '@ddnn/contracts';
import { evaluatePolicy } from './evaluate';
import { paretoFrontier } from './pareto';
import type { SessionSampleTable } from './session-table';

/**
 * One row per (session, policy), in that order, with each session's rows marked on its own
 * accuracy-vs-bytes Pareto frontier (sessions differ in samples, so they are not ranked together).
 * Policies a session cannot evaluate come back as not-evaluable rows without a mark.
 */
export function comparePolicies(tables: SessionSampleTable[], policies: PolicySpec[], linkModel?: LinkModel): CompareRow[] {
  return tables.flatMap((table) => {
    const rows = policies.map((policy) => evaluatePolicy(table, policy, linkModel));
    const marked = paretoFrontier(rows.map((r) => (r.evaluable ? { accuracy: r.accuracy, bytesPerSample: r.bytesPerSample } : {})));
    return rows.map((r, i): CompareRow => (r.evaluable ? { ...r, dominated: marked[i].dominated } : r));
  });
}

'use client';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { Suspense } from 'react';
import { Card, Empty, ErrorNote, Loading } from '../../../components/ui';
import { api } from '../../../lib/api';
import { shortId } from '../../../lib/format';
import { runDiff, type RunDiffRow } from '../../../lib/run-diff';
import { useAsync } from '../../../lib/use-async';

function DiffTable({ group, rows, a, b }: { group: RunDiffRow['group']; rows: RunDiffRow[]; a: string; b: string }) {
  return (
    <div className="table-wrap">
      <table data-testid={`run-diff-${group}`}>
        <thead>
          <tr>
            <th />
            <th>{a}</th>
            <th>{b}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.label} data-differs={r.differs ? 'true' : undefined} style={r.differs ? { background: 'rgba(250, 204, 21, 0.22)', fontWeight: 600 } : undefined}>
              <th scope="row">{r.label}</th>
              <td className="wrap">{r.a}</td>
              <td className="wrap">{r.b}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Comparison({ a, b }: { a: string; b: string }) {
  const { data, error, reload } = useAsync(() => Promise.all([api.session(a), api.session(b)]), [a, b]);
  if (error) return <ErrorNote error={error} what="the two sessions" onRetry={reload} />;
  if (!data) return <Loading what="the two sessions" />;
  const [x, y] = data;
  const rows = runDiff(x, y);
  const differing = rows.filter((r) => r.differs).length;
  const name = (s: typeof x) => s.name || shortId(s.id);
  const head = (
    <>
      <Link href={`/session?id=${x.id}`}>{name(x)}</Link> vs <Link href={`/session?id=${y.id}`}>{name(y)}</Link>
    </>
  );
  return (
    <>
      <Card title="Settings">
        <p className="muted">
          {head}: {differing} of {rows.length} rows differ (highlighted).
        </p>
        <DiffTable group="settings" rows={rows.filter((r) => r.group === 'settings')} a={name(x)} b={name(y)} />
      </Card>
      <Card title="Outcomes">
        <DiffTable group="outcome" rows={rows.filter((r) => r.group === 'outcome')} a={name(x)} b={name(y)} />
      </Card>
    </>
  );
}

function Inner() {
  const q = useSearchParams();
  const a = q.get('a');
  const b = q.get('b');
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>Two runs side by side</h1>
          <p>Their recorded configuration and outcomes; rows that differ are highlighted.</p>
        </div>
      </div>
      {a && b ? (
        <Comparison key={`${a}/${b}`} a={a} b={b} />
      ) : (
        <Empty title="Two sessions are needed.">
          Tick two on the <Link href="/sessions">sessions</Link> page.
        </Empty>
      )}
    </>
  );
}

export default function CompareRunsPage() {
  return (
    <Suspense fallback={<Loading what="the comparison" />}>
      <Inner />
    </Suspense>
  );
}

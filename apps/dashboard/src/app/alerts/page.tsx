'use client';
import { useRouter, useSearchParams } from 'next/navigation';
import { Suspense } from 'react';
import { AlertsList } from '../../components/alerts-list';
import { RulesCard } from '../../components/alerts/rules-card';
import { WebhooksCard } from '../../components/alerts/webhooks-card';
import { Loading } from '../../components/ui';

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
      <RulesCard />
      <WebhooksCard />
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

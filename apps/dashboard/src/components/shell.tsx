'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { adoptTokenFromFragment, clearToken, getToken, onTokenChange, setToken } from '../lib/auth';

const NAV = [
  { href: '/', label: 'Overview' },
  { href: '/devices', label: 'Devices' },
  { href: '/models', label: 'Models' },
  { href: '/sessions', label: 'Sessions' },
  { href: '/monitoring', label: 'Monitoring' },
  { href: '/replay', label: 'Replay' },
  { href: '/compare', label: 'Compare' },
  { href: '/topology', label: 'Topology' },
  { href: '/alerts', label: 'Alerts' },
];

function SignIn({ reason }: { reason: string | null }) {
  const [value, setValue] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value.trim()) setToken(value.trim());
  };
  return (
    <div className="signin">
      <form onSubmit={submit} className="card">
        <h1>Sign in to ddnn</h1>
        {reason && (
          <p className="note error" role="alert">
            {reason}
          </p>
        )}
        <p className="muted">
          Open the link <code>npm start</code> printed (it ends in <code>#token=…</code>), or paste the operator token
          (<code>DDNN_ADMIN_TOKEN</code>) here.
        </p>
        <label>
          Operator token
          <input name="token" type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
        </label>
        <button type="submit" disabled={!value.trim()}>
          Sign in
        </button>
      </form>
    </div>
  );
}

/** Navigation and the sign-in gate around every page. */
export function Shell({ children }: { children: ReactNode }) {
  const pathname = usePathname();
  const [ready, setReady] = useState(false);
  const [token, setTok] = useState<string | null>(null);
  const [reason, setReason] = useState<string | null>(null);
  useEffect(() => {
    adoptTokenFromFragment();
    setTok(getToken());
    setReady(true);
    // Pasting the printed link into a tab already on this app only changes the fragment: no reload, so
    // the fragment is adopted (and removed from the address bar) on hashchange too.
    const onHash = () => adoptTokenFromFragment();
    window.addEventListener('hashchange', onHash);
    const off = onTokenChange((t, why) => {
      setTok(t);
      setReason(why ?? null);
    });
    return () => {
      window.removeEventListener('hashchange', onHash);
      off();
    };
  }, []);
  if (!ready) return <div className="boot" />;
  return (
    <div className="app">
      <nav className="topnav">
        <Link href="/" className="brand">
          ddnn
        </Link>
        {token &&
          NAV.map((n) => {
          const active = n.href === '/' ? pathname === '/' : pathname?.startsWith(n.href);
            return (
              <Link key={n.href} href={n.href} className={active ? 'active' : undefined}>
                {n.label}
              </Link>
            );
          })}
        <span className="spacer" />
        {token && (
          <button type="button" className="link" onClick={() => clearToken('Signed out.')}>
            Sign out
          </button>
        )}
      </nav>
      <main className="content">{token ? children : <SignIn reason={reason} />}</main>
    </div>
  );
}

/**
 * The operator token: taken once from a `#token=` fragment (the URL `npm start` prints), kept in
 * localStorage, and removed from the address bar so it is not shared with a copied link.
 */
const KEY = 'ddnn.operatorToken';

type Listener = (token: string | null, reason?: string) => void;
const listeners = new Set<Listener>();

/** Reads a `#token=...` fragment, stores it, and strips it from the address bar. Returns the token found. */
export function adoptTokenFromFragment(loc: Location = window.location, hist: History = window.history): string | null {
  const m = /(?:^#|&)token=([^&]+)/.exec(loc.hash);
  if (!m) return null;
  const token = decodeURIComponent(m[1]);
  setToken(token);
  const rest = loc.hash.replace(/(^#|&)token=[^&]+/, '$1').replace(/^#&/, '#');
  hist.replaceState(hist.state, '', loc.pathname + loc.search + (rest === '#' ? '' : rest));
  return token;
}

/** The stored operator token, or null when signed out. */
export function getToken(): string | null {
  try {
    return window.localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/** Stores the token and tells the app shell. */
export function setToken(token: string): void {
  window.localStorage.setItem(KEY, token);
  listeners.forEach((l) => l(token));
}

/** Forgets the token; `reason` is shown on the sign-in form (e.g. after a 401). */
export function clearToken(reason?: string): void {
  window.localStorage.removeItem(KEY);
  listeners.forEach((l) => l(null, reason));
}

/** Subscribes to sign-in/sign-out; returns the unsubscribe function. */
export function onTokenChange(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

'use client';
import { useEffect, useState } from 'react';
import { ApiError } from '../lib/api';

/**
 * An image the API serves only with the operator token (camera views, contact sheets): fetched with the token and
 * shown from a blob URL, since an <img src> cannot send the Authorization header.
 */
export function AuthedImage({ load, alt, className, deps }: { load: () => Promise<Blob>; alt: string; className?: string; deps: readonly unknown[] }) {
  const [state, setState] = useState<{ url?: string; error?: string }>({});
  useEffect(() => {
    let url: string | undefined;
    let cancelled = false;
    setState({});
    load().then(
      (blob) => {
        url = URL.createObjectURL(blob);
        if (cancelled) URL.revokeObjectURL(url);
        else setState({ url });
      },
      (e: unknown) => !cancelled && setState({ error: e instanceof ApiError && (e.status === 404 || e.status === 422) ? e.message : 'image unavailable' }),
    );
    return () => {
      cancelled = true;
      if (url) URL.revokeObjectURL(url);
    };
    // The caller names what the image depends on: `load` is a new closure every render.
  }, deps);
  if (state.error) return <div className={className} title={state.error}>no image</div>;
  if (!state.url) return <div className={className} aria-busy="true" />;
  return <img className={className} alt={alt} src={state.url} />;
}

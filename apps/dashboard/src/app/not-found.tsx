'use client';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { Empty } from '../components/ui';

/** The export's 404.html: the API answers every path the export has no page for with it, and a 404 status. */
export default function NotFound() {
  // Read after mounting: the page is built once, for whatever path it will answer.
  const [path, setPath] = useState('');
  useEffect(() => setPath(window.location.pathname), []);
  return (
    <Empty title="Page not found.">
      The dashboard has no page at <span className="mono" data-testid="not-found-path">{path}</span>. Go to the <Link href="/">overview</Link>.
    </Empty>
  );
}

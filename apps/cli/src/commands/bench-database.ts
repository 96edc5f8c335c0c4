import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { log } from '../log';

// The database server of the benchmarks that need one of their own (bench:events, bench:metrics).

export function withDatabase(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

/** TEST_DATABASE_URL, or an embedded server started (and stopped) for this run. */
export async function serverUrl(): Promise<{ url: string; embedded: boolean; stop(): Promise<void> }> {
  if (process.env.TEST_DATABASE_URL) return { url: process.env.TEST_DATABASE_URL, embedded: false, stop: async () => undefined };
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'libs', 'testing', 'embedded-server.cjs'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('bench events: TEST_DATABASE_URL is not set and libs/testing/embedded-server.cjs was not found');
    dir = up;
  }
  log('bench events: TEST_DATABASE_URL not set, starting an embedded PostgreSQL');
  const { startTestServer } = createRequire(__filename)(path.join(dir, 'libs', 'testing', 'embedded-server.cjs')) as {
    startTestServer(): Promise<{ url: string; stop(): Promise<void> }>;
  };
  const s = await startTestServer();
  return { ...s, embedded: true };
}

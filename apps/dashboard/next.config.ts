import path from 'node:path';
import type { NextConfig } from 'next';

// A static export: the API serves apps/dashboard/out at /, so there is no Next server at run time and
// every dynamic value lives in query parameters (/replay?session=ID&t=42).
const config: NextConfig = {
  output: 'export',
  // Next also emits a folder per route (its RSC payloads), and express.static redirects /x to /x/ when a
  // folder exists: with trailing slashes every page is x/index.html and that redirect lands on it.
  trailingSlash: true,
  reactStrictMode: true,
  images: { unoptimized: true },
  // The workspace libraries are TypeScript sources outside this folder (tsconfig path aliases).
  experimental: { externalDir: true },
  turbopack: { root: path.resolve(__dirname, '../..') },
  outputFileTracingRoot: path.resolve(__dirname, '../..'),
};

export default config;

#!/usr/bin/env node
import { buildProgram } from './program';

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`ddnn: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });

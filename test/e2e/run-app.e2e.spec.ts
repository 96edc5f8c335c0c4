import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, startNode, tempDir, waitFor, type RunningProcess } from '@ddnn/testing';

const LIBS = ['a', 'b', 'c'];
const FILES_PER_LIB = 20;

/**
 * A small workspace laid out as this one is (apps/<app>, libs/<lib>/src behind tsconfig paths, the repo's
 * node_modules), with a copy of scripts/run-app.mjs: its dist can be removed without touching the real one,
 * which other tests run from.
 */
function smallWorkspace(): string {
  const root = tempDir('ddnn-e2e-run-app-');
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };
  fs.mkdirSync(path.join(root, 'scripts'));
  fs.copyFileSync(path.join(repoRoot, 'scripts', 'run-app.mjs'), path.join(root, 'scripts', 'run-app.mjs'));
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  const paths: Record<string, string[]> = {};
  for (const lib of LIBS) {
    const names = Array.from({ length: FILES_PER_LIB }, (_, i) => `m${i}`);
    for (const n of names) write(`libs/${lib}/src/${n}.ts`, `export const ${lib}${n} = '${lib}${n}';\n`);
    write(`libs/${lib}/src/index.ts`, names.map((n) => `export * from './${n}';\n`).join(''));
    paths[`@small/${lib}`] = [`libs/${lib}/src/index.ts`];
  }
  const compilerOptions = { rootDir: '.', baseUrl: '.', target: 'es2022', module: 'commonjs', moduleResolution: 'node10', strict: true, types: ['node'], ignoreDeprecations: '6.0', paths };
  write('tsconfig.base.json', JSON.stringify({ compilerOptions }));
  write(
    'apps/small/tsconfig.app.json',
    JSON.stringify({
      extends: '../../tsconfig.base.json',
      compilerOptions: { outDir: '../../dist/apps/small', rootDir: '../..', incremental: true, tsBuildInfoFile: '../../dist/apps/small/.tsbuildinfo' },
      include: ['src/**/*.ts'],
    }),
  );
  write(
    'apps/small/src/main.ts',
    LIBS.map((l) => `import * as ${l} from '@small/${l}';\n`).join('') +
      // One string: console.log colours a number argument when colours are forced (CI sets FORCE_COLOR).
      `console.log(\`ran \${process.argv[2]} \${${LIBS.map((l) => `Object.keys(${l}).length`).join(' + ')}}\`);\n`,
  );
  return root;
}

const runApp = (root: string, arg: string): RunningProcess => startNode(path.join(root, 'scripts', 'run-app.mjs'), ['small', arg], {}, root);
const built = (root: string) => path.join(root, 'dist', 'apps', 'small', 'apps', 'small', 'src', 'main.js');
/** The build lock's folder (proper-lockfile: `<file>.lock`). */
const lockFile = (root: string) => path.join(root, 'dist', 'apps', '.small.build.lock');

/**
 * scripts/run-app.mjs (`npm run -s device`): agents started together on a fresh build each compiled into the same
 * folder, and one's tsc undid another's tsc-alias under it: some crashed with Cannot find module '@ddnn/logging'.
 */
describe('scripts/run-app.mjs builds an app once for runs started together', () => {
  const roots: string[] = [];
  const started: RunningProcess[] = [];
  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop('SIGKILL')));
    for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
  });

  it('three runs started at once from a clean dist all run the app', async () => {
    const root = smallWorkspace();
    roots.push(root);
    const runs = ['1', '2', '3'].map((arg) => runApp(root, arg));
    started.push(...runs);
    const codes = await Promise.all(runs.map((r) => r.exited));
    const outputs = runs.map((r) => r.output());
    expect({ codes, outputs }).toEqual({ codes: [0, 0, 0], outputs: ['1', '2', '3'].map((arg) => `ran ${arg} ${LIBS.length * FILES_PER_LIB}\n`).map(expect.stringContaining) });
    expect(fs.existsSync(lockFile(root))).toBe(false);
  }, 120_000);

  it('waits while a live process holds the build lock, and takes over a lock whose holder died', async () => {
    const root = smallWorkspace();
    roots.push(root);
    // Stands for a run building at the moment: it holds the lock, and renews it, as run-app does while it builds.
    fs.mkdirSync(path.dirname(lockFile(root)), { recursive: true });
    const take = `require('proper-lockfile').lock(${JSON.stringify(lockFile(root).replace(/\.lock$/, ''))}, { realpath: false, stale: 10000 }).then(() => { console.log('locked'); setInterval(() => {}, 1000); })`;
    const holder = spawn(process.execPath, ['-e', take], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    const holderExited = new Promise((r) => holder.on('exit', r));
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout?.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
        holder.on('exit', (code) => reject(new Error(`the lock holder exited (${code})`)));
      });
      const run = runApp(root, 'after-wait');
      started.push(run);
      await Promise.race([
        waitFor('run-app to say it waits for the lock', () => /waiting for another run's build of apps\/small \(lock /.test(run.output()), 60_000),
        run.exited.then((code) => {
          throw new Error(`run-app exited (${code}) instead of waiting for the lock:\n${run.output()}`);
        }),
      ]);
      expect(fs.existsSync(built(root))).toBe(false);

      // The holder dies without releasing the lock (a build killed half-way): the waiting run takes the lock over once it
      // is stale (not renewed for 10 s).
      holder.kill('SIGKILL');
      await holderExited;
      expect(await run.exited).toBe(0);
      expect(run.output()).toContain(`ran after-wait ${LIBS.length * FILES_PER_LIB}`);
      expect(fs.existsSync(lockFile(root))).toBe(false);
    } finally {
      holder.kill('SIGKILL');
    }
  }, 120_000);
});

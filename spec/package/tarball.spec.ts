import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';

// What users get is the packed tarball, not the source tree: this spec packs the build that
// `npm test` made (`--ignore-scripts`: prepack's clean rebuild would pull dist/ from under the
// specs running beside this one; a fresh clone's `npm pack` does build clean, checked below),
// lists its files, runs arethetypeswrong on it and installs it, offline, into a CommonJS and an
// ESM app.

const root = path.join(__dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string; scripts: Record<string, string> };

// The entry points, from the one list (scripts/entries.mjs is an ES module: ask Node).
function entrySubpaths(): string[] {
  const script = "import { ENTRIES } from './scripts/entries.mjs'; console.log(JSON.stringify(ENTRIES.map((e) => e.subpath)));";
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 20_000 })) as string[];
}

interface PackedFile {
  readonly path: string;
}

let work: string;
let tarball: string;
let files: string[];

function run(file: string, args: readonly string[], cwd: string, timeout = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, timeout, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  if (!fs.existsSync(path.join(root, 'dist', 'esm', 'index.mjs'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dflockd-rx-pack-'));
  const packed = await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], root);
  if (packed.code !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
  const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: PackedFile[] }];
  tarball = path.join(work, info.filename);
  files = info.files.map((f) => f.path).sort();
}, 120_000);

afterAll(() => {
  if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
});

describe('the tarball', () => {
  test('npm pack builds clean first (prepack), so nothing stale or unbuilt is packed', () => {
    expect(pkg.scripts['prepack']).toBe('node scripts/build.mjs --clean');
  });

  test('holds dist, README, LICENSE, CHANGELOG and package.json: no spec, fixture, tool or benchmark harness', () => {
    expect(files).toEqual(expect.arrayContaining(['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/esm/index.mjs', 'dist/esm/index.d.mts', 'dist/cjs/cli/main.js']));
    expect(files.filter((f) => !f.startsWith('dist/'))).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json']);
    const unwanted = files.filter((f) => /(^|\/)(spec|fixtures|tools|examples|scripts)\/|\.tsbuildinfo$|\.pem$|\.map$|(?<!\.d)\.m?ts$/.test(f));
    expect(unwanted).toEqual([]);
  });

  test('every file in dist/ comes from a source under lib/ (or is an entry point\'s ESM face)', () => {
    const orphans = files.filter((f) => {
      if (!f.startsWith('dist/') || f === 'dist/cjs/package.json') return false;
      const esm = /^dist\/esm\/(.+?)(\.mjs|\.d\.mts)$/.exec(f);
      if (esm) return !fs.existsSync(path.join(root, 'lib', `${esm[1]}.ts`));
      const cjs = /^dist\/cjs\/(.+?)(\.d\.ts|\.js)$/.exec(f);
      return cjs === null || !fs.existsSync(path.join(root, 'lib', `${cjs[1]}.ts`));
    });
    // A stale file here means a source was moved or deleted since the last full build: `npm run build -- --clean`.
    expect(orphans).toEqual([]);
  });

  test('no benchmark harness: the published bench is the small load tool only', () => {
    expect(files.filter((f) => /cli\/bench\/(runner|raw-|scale|report|servers|trial)/.test(f))).toEqual([]);
  });

  test('no @internal member is left in the shipped declarations', () => {
    const leftovers: string[] = [];
    for (const f of files.filter((name) => /\.d\.m?ts$/.test(name))) {
      const lines = fs.readFileSync(path.join(root, f), 'utf8').split('\n');
      lines.forEach((line, i) => {
        // stripInternal removes tagged declarations; a tag left on a constructor parameter is
        // harmless (the parameter is not a member) and a module-level tag only documents the file.
        if (!line.includes('@internal')) return;
        const opening = lines.slice(0, i).reverse().find((l) => /constructor\(|[;{}]\s*$/.test(l));
        const parameter = /^\s*\/\*\* @internal \*\/ [\w$]+[?]?:/.test(line) && opening?.includes('constructor(') === true;
        const moduleTag = /^\s*\* @internal\s*$/.test(line) && lines.slice(0, i).some((l) => /@module/.test(l));
        if (!parameter && !moduleTag) leftovers.push(`${f}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(leftovers).toEqual([]);
  });
});

describe('arethetypeswrong on the tarball', () => {
  test('no problem for node10, node16 (CJS and ESM) and bundler, for every entry point', async () => {
    const attw = path.join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
    const { code, stdout, stderr } = await run(process.execPath, [attw, '--format', 'json', tarball], root);
    const report = JSON.parse(stdout) as { analysis: { problems: unknown[]; entrypoints: Record<string, { resolutions: Record<string, unknown> }> } };
    expect({ problems: report.analysis.problems, stderr }).toEqual({ problems: [], stderr: '' });
    expect(code).toBe(0);
    const subpaths = Object.keys(report.analysis.entrypoints).sort();
    expect(subpaths).toEqual([...entrySubpaths(), './package.json'].sort());
    for (const subpath of subpaths) {
      expect(Object.keys(report.analysis.entrypoints[subpath]!.resolutions).sort()).toEqual(['bundler', 'node10', 'node16-cjs', 'node16-esm']);
    }
  }, 120_000);
});

describe('installed (offline) into an app', () => {
  let app: string;

  beforeAll(async () => {
    app = path.join(work, 'app');
    fs.mkdirSync(app);
    // rxjs (the peer) and the Node types are linked from this checkout: nothing is downloaded.
    const link = (name: string): string => `file:${path.join(root, 'node_modules', name)}`;
    fs.writeFileSync(
      path.join(app, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', private: true, dependencies: { 'dflockd-rx': `file:${tarball}`, rxjs: link('rxjs'), '@types/node': link('@types/node') } }),
    );
    const installed = await run(npm, ['install', '--offline', '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund'], app);
    if (installed.code !== 0) throw new Error(`npm install failed: ${installed.stderr}`);
    fs.writeFileSync(path.join(app, 'one-copy.mjs'), ONE_COPY_ESM);
    fs.writeFileSync(path.join(app, 'one-copy.cjs'), ONE_COPY_CJS);
    fs.writeFileSync(path.join(app, 'resolve.mjs'), 'export const resolveHere = (specifier) => import.meta.resolve(specifier);\n');
  }, 120_000);

  test('the installed package is the tarball, not a link to this checkout', () => {
    const installed = path.join(app, 'node_modules', 'dflockd-rx');
    expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(fs.existsSync(path.join(installed, 'lib'))).toBe(false);
    expect(fs.existsSync(path.join(installed, 'dist', 'esm', 'index.mjs'))).toBe(true);
  });

  test.each([
    ['an ESM app', 'one-copy.mjs'],
    ['a CommonJS app', 'one-copy.cjs'],
  ])('%s: one copy under import and require — a required client works in an imported DistributedLock, errors are instanceof across both', async (_name, script) => {
    const { code, stdout, stderr } = await run(process.execPath, [script], app, 30_000);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      sameClass: true,
      sameErrorClass: true,
      acquired: true,
      released: true,
      requiredErrorIsImportedClass: true,
      importedErrorIsRequiredClass: true,
      code: 'INVALID_ARGUMENT',
      resolvedImport: expect.stringMatching(/node_modules\/dflockd-rx\/dist\/esm\/index\.mjs$/),
      resolvedRequire: expect.stringMatching(/node_modules\/dflockd-rx\/dist\/cjs\/index\.js$/),
    });
  });

  test("a browser bundle of the installed root and dflockd-rx/http has no Node built-in: the tarball's `browser` field swaps the socket module", async () => {
    const result = await build({
      stdin: { contents: "export { DistributedLock, stableHashShard } from 'dflockd-rx';\nexport { DflockdHttpClient } from 'dflockd-rx/http';", resolveDir: app, sourcefile: 'entry.js' },
      absWorkingDir: app,
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
      // No external at all: an import of any Node built-in fails the build.
      external: ['rxjs'],
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain('node_modules/dflockd-rx/dist/cjs/transport/line-socket.browser.js');
    expect(inputs.filter((f) => f.endsWith('/line-socket.js'))).toEqual([]);
  });

  test('the CLI bin is installed and runs', async () => {
    const { code, stdout } = await run(process.execPath, [path.join(app, 'node_modules', '.bin', 'dflockd-rx'), '--version'], app, 20_000);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(pkg.version);
  });

  // The package has no default export (house style: named exports only). Decided: a default
  // import is a type error in TypeScript and a link error in Node, never a silent `undefined`.
  test('a default import is refused by Node ESM at link time', async () => {
    fs.writeFileSync(path.join(app, 'default.mjs'), "import dflockd from 'dflockd-rx';\nconsole.log(typeof dflockd);\n");
    const { code, stderr } = await run(process.execPath, ['default.mjs'], app, 20_000);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/SyntaxError: .*does not provide an export named 'default'/);
  });

  test.each([
    ['node16, ESM', 'node16', 'node16', 'mts', 'false', 'esm'],
    ['node16, CommonJS', 'node16', 'node16', 'cts', 'true', 'cjs'],
    ['bundler', 'esnext', 'bundler', 'ts', 'true', 'esm'],
    ['node10', 'commonjs', 'node10', 'ts', 'true', 'cjs'],
  ])('TypeScript (%s): named imports of every entry type-check, a default import is error TS1192', async (_name, module, resolution, ext, skipLibCheck, format) => {
    const dir = path.join(app, `ts-${resolution}-${ext}`);
    fs.mkdirSync(dir);
    const good = [
      "import { DflockdClient, DistributedLock, DflockdError, type LockEvent } from 'dflockd-rx';",
      "import { DflockdTestServer } from 'dflockd-rx/testing';",
      "export const lock = new DistributedLock('k', { client: new DflockdClient() });",
      'export const server: DflockdTestServer | undefined = undefined;',
      'export type Pair = [LockEvent, DflockdError];',
      '',
    ].join('\n');
    fs.writeFileSync(path.join(dir, `good.${ext}`), good);
    fs.writeFileSync(path.join(dir, `bad.${ext}`), "import dflockd from 'dflockd-rx';\nexport const x = dflockd;\n");
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    // One run checks the shipped declarations themselves (skipLibCheck false); the others only resolve.
    const flags = ['--noEmit', '--strict', '--skipLibCheck', skipLibCheck, '--module', module, '--moduleResolution', resolution, '--target', 'es2022', '--lib', 'es2023,esnext.disposable', '--types', 'node', '--ignoreDeprecations', '6.0'];
    const { stdout } = await run(process.execPath, [tsc, ...flags, `good.${ext}`, `bad.${ext}`], dir);
    expect(stdout.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^bad\\.${ext}\\(1,8\\): error TS1192: Module '".*/node_modules/dflockd-rx/dist/${format}/index"' has no default export\\.$`))]);
  }, 60_000);
});

// Run inside the installed app. A client made with `require` goes into an `import`ed facade, and
// errors cross both ways: with two copies of the package either would fail.
const ONE_COPY_BODY = `
const server = new DflockdTestServer({ port: 0, host: '127.0.0.1' });
const port = await server.start();
const client = new required.DflockdClient({ servers: [['127.0.0.1', port]] });
try {
  const lock = new imported.DistributedLock('one-copy', { client });
  const acquired = await lock.acquire();
  const released = await lock.release();
  let fromRequired, fromImported;
  try { new required.DflockdClient({ servers: [] }); } catch (e) { fromRequired = e; }
  try { new imported.DflockdClient({ servers: [] }); } catch (e) { fromImported = e; }
  process.stdout.write(JSON.stringify({
    sameClass: required.DflockdClient === imported.DflockdClient,
    sameErrorClass: required.DflockdError === imported.DflockdError,
    acquired,
    released,
    requiredErrorIsImportedClass: fromRequired instanceof imported.DflockdError && fromRequired instanceof imported.InvalidArgumentError,
    importedErrorIsRequiredClass: fromImported instanceof required.DflockdError,
    code: fromRequired.code,
    resolvedImport: resolvedImport,
    resolvedRequire: require.resolve('dflockd-rx'),
  }));
} finally {
  await client.close();
  await server.stop();
}
`;

const ONE_COPY_ESM = `import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as imported from 'dflockd-rx';
import { DflockdTestServer } from 'dflockd-rx/testing';
const require = createRequire(import.meta.url);
const required = require('dflockd-rx');
const resolvedImport = fileURLToPath(import.meta.resolve('dflockd-rx'));
${ONE_COPY_BODY}`;

const ONE_COPY_CJS = `const { fileURLToPath } = require('node:url');
const required = require('dflockd-rx');
const { DflockdTestServer } = require('dflockd-rx/testing');
(async () => {
  const imported = await import('dflockd-rx');
  // CommonJS has no import.meta.resolve: ask an ESM module beside this file.
  const resolvedImport = fileURLToPath((await import('./resolve.mjs')).resolveHere('dflockd-rx'));
  ${ONE_COPY_BODY}
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exitCode = 1; });
`;

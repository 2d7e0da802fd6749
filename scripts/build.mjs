// Builds the package: the CommonJS implementation with its declarations (dist/cjs), a thin ESM
// face per entry point (dist/esm), package.json's entry fields, then the examples and tools
// (which import `dflockd-rx` by name, resolved through the exports map exactly as a user's code
// would).
//
// Incremental: when no input (lib/, examples/, tools/, scripts/, tsconfig*.json, package.json,
// package-lock.json) is newer than the last build's stamp, nothing runs at all. Otherwise
// `tsc -b` rebuilds the library from its .tsbuildinfo (kept inside dist/, so deleting the output
// forces a full build), the ESM faces are rewritten only when their CommonJS entry is newer, and
// the examples and tools are re-checked with `tsc -p --incremental`, which, unlike `tsc -b`,
// notices that the package's declarations they import have changed. `--clean` deletes dist/ and
// build/ first; `npm pack` (prepack) always builds clean, so a deleted source file can never
// linger in the tarball.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { ENTRIES, entryFiles, packageFields } from './entries.mjs';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
process.chdir(root);
// tsc has printed its errors: exit with its status, without a stack trace of this script.
const tscRun = (...args) => {
  try {
    execFileSync(process.execPath, [tsc, ...args], { stdio: 'inherit' });
  } catch (error) {
    failed = error.status ?? 1;
    throw error;
  }
};
const tscBuild = (project) => tscRun('-b', project);
const tscProject = (project) => tscRun('-p', project);
let failed;
const STAMP = 'build/.build-stamp';
const INPUTS = ['lib', 'examples', 'tools', 'scripts', 'package.json', 'package-lock.json', ...readdirSync('.').filter((f) => /^tsconfig.*\.json$/.test(f))];

// Several builds at once (parallel test runs in one checkout) would overwrite each other's
// output: take a directory lock, stealing it when it is older than any build takes.
const ES_MODULE_MARKER = '/** Set by the CommonJS build: this module has named exports only, no default export. */\nexport declare const __esModule: true;';
const LOCK = '.build-lock';
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
for (let i = 0; ; i++) {
  try {
    mkdirSync(LOCK);
    break;
  } catch {
    let age = Infinity;
    try {
      age = Date.now() - statSync(LOCK).mtimeMs;
    } catch {}
    if (age > 120_000 || i > 1200) {
      rmSync(LOCK, { recursive: true, force: true });
      continue;
    }
    sleep(100);
  }
}
try {
  if (process.argv.includes('--clean')) {
    rmSync('dist', { recursive: true, force: true, maxRetries: 5 });
    rmSync('build', { recursive: true, force: true, maxRetries: 5 });
  }
  if (!upToDate()) {
    tscBuild('tsconfig.build.json');
    writeIfChanged('dist/cjs/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');
    chmodSync('dist/cjs/cli/main.js', 0o755);
    syncPackageJson();
    for (const entry of ENTRIES) {
      markEsModule(entry);
      writeEsmFace(entry);
    }
    tscProject('tsconfig.examples.json');
    tscProject('tsconfig.tools.json');
    writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  }
} catch (error) {
  if (failed === undefined) throw error;
} finally {
  rmSync(LOCK, { recursive: true, force: true });
}
if (failed !== undefined) process.exitCode = failed;

// True when the last build's stamp is newer than every input and the outputs are all there.
function upToDate() {
  if (!existsSync(STAMP) || !existsSync('dist/cjs/index.js') || !existsSync('build/examples') || !existsSync('build/tools')) return false;
  const built = statSync(STAMP).mtimeMs;
  const newer = (file) => {
    const stat = statSync(file, { throwIfNoEntry: false });
    if (stat === undefined) return false;
    if (!stat.isDirectory()) return stat.mtimeMs > built;
    // A directory's own mtime changes when an entry is added, removed or renamed.
    return stat.mtimeMs > built || readdirSync(file).some((name) => newer(path.join(file, name)));
  };
  return !INPUTS.some(newer);
}

/**
 * The ESM face of one entry: re-exports the CommonJS module's named exports, listed from the
 * module itself (so no name is written twice by hand), and declarations that re-export the
 * CommonJS declarations. Import and require therefore load one implementation: a class made by
 * `require` is the class an `import` sees.
 */
function writeEsmFace(entry) {
  const f = entryFiles(entry);
  const esm = f.esm.slice(2);
  const cjs = f.cjs.slice(2);
  const newest = Math.max(statSync(cjs).mtimeMs, statSync(new URL(import.meta.url)).mtimeMs);
  if (existsSync(esm) && existsSync(f.esmTypes.slice(2)) && statSync(esm).mtimeMs >= newest) return;
  const names = Object.keys(require(path.resolve(cjs))).filter((name) => name !== '__esModule' && name !== 'default');
  if (names.length === 0) throw new Error(`build: ${cjs} exports nothing`);
  names.push('__esModule'); // declared by markEsModule: the ESM face keeps types and values alike
  for (const name of names) if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new Error(`build: ${cjs} exports ${JSON.stringify(name)}, not an identifier`);
  const target = path.relative(path.dirname(esm), cjs).split(path.sep).join('/');
  const from = target.startsWith('.') ? target : `./${target}`;
  const header = `// Generated by scripts/build.mjs: the ESM face of ${path.basename(cjs)} — one implementation under import and require.\n`;
  mkdirSync(path.dirname(esm), { recursive: true });
  // Node gives a CommonJS module's exports as `default`; a bundler that honours `__esModule`
  // (Rollup's commonjs plugin, esbuild outside .mjs) looks for `exports.default` instead and finds
  // none, but then puts the named exports on the namespace itself.
  const body = `import * as namespace from '${from}';\nconst cjs = namespace.default ?? namespace;\nexport const {\n${names.map((n) => `  ${n},\n`).join('')}} = cjs;\n`;
  writeFileSync(esm, header + body);
  writeFileSync(f.esmTypes.slice(2), `${header}export * from '${from}';\n`);
}

/**
 * Declares the `__esModule` marker tsc's CommonJS output sets. Without it TypeScript (node10 and
 * node16 from CommonJS, where esModuleInterop is on) accepts `import x from 'dflockd-rx'` and
 * types `x` as the whole module, while at run time `x` is undefined (the marker makes
 * `__importDefault` look for a `default` export, and there is none). With it, a default import
 * is error TS1192 in every mode, as it already is for ESM and bundlers.
 */
function markEsModule(entry) {
  const file = entryFiles(entry).cjsTypes.slice(2);
  const text = readFileSync(file, 'utf8');
  if (text.includes(ES_MODULE_MARKER)) return;
  writeFileSync(file, `${text.trimEnd()}\n${ES_MODULE_MARKER}\n`);
}

// package.json's entry fields follow scripts/entries.mjs; rewritten only when they differ.
function syncPackageJson() {
  const text = readFileSync('package.json', 'utf8');
  const pkg = JSON.parse(text);
  const fields = packageFields();
  const next = { ...pkg };
  for (const [key, value] of Object.entries(fields)) next[key] = value;
  const out = JSON.stringify(next, null, 2) + '\n';
  if (out !== text) {
    writeFileSync('package.json', out);
    process.stderr.write('build: package.json entry fields updated from scripts/entries.mjs\n');
  }
}

function writeIfChanged(file, content) {
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

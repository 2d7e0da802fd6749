// Builds the package: CommonJS + declarations, then ESM, then the examples and tools (which
// import `dflockd-rx` by name, resolved through the exports map exactly as a user's code would).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const run = (project) => execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });

// Several builds at once (parallel test runs in one checkout) would delete each other's output:
// take a directory lock, stealing it when it is older than any build takes.
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
  rmSync('dist', { recursive: true, force: true, maxRetries: 5 });
  rmSync('build', { recursive: true, force: true, maxRetries: 5 });
  run('tsconfig.build.json');
  run('tsconfig.esm.json');
  for (const [dir, type] of [['dist/cjs', 'commonjs'], ['dist/esm', 'module']]) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/package.json`, JSON.stringify({ type }) + '\n');
  }
  chmodSync('dist/cjs/cli/main.js', 0o755);
  run('tsconfig.examples.json');
  run('tsconfig.tools.json');
} finally {
  rmSync(LOCK, { recursive: true, force: true });
}

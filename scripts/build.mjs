// Builds the package: CommonJS + declarations, then ESM, then the examples (which import
// `dflockd-rx` by name, resolved through the exports map exactly as a user's code would).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const run = (project) => execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });

rmSync('dist', { recursive: true, force: true });
rmSync('build', { recursive: true, force: true });
run('tsconfig.build.json');
run('tsconfig.esm.json');
for (const [dir, type] of [['dist/cjs', 'commonjs'], ['dist/esm', 'module']]) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/package.json`, JSON.stringify({ type }) + '\n');
}
chmodSync('dist/cjs/cli/main.js', 0o755);
run('tsconfig.examples.json');
run('tsconfig.tools.json');

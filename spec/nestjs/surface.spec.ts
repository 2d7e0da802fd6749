// The `dflockd-rx/nestjs` entry point: its exported names are pinned, and Nest is loaded only
// through it (plain users never need the optional peers). Checked on the build, as users load it.
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as nestjs from 'dflockd-rx/nestjs';

const ROOT = path.join(__dirname, '..', '..');

function nodeEval(args: readonly string[]): string {
  return childProcess.execFileSync(process.execPath, [...args], { cwd: ROOT, encoding: 'utf8' }).trim();
}

beforeAll(() => {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cjs', 'nestjs', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
});

test('exports exactly the curated names', () => {
  expect(Object.keys(nestjs).sort()).toEqual(['DFLOCKD_CLIENT', 'DFLOCKD_MODULE_OPTIONS', 'DflockdModule', 'Locked', 'LockedInterceptor', 'lockedErrorToHttpException']);
});

test("loading 'dflockd-rx' never loads @nestjs/*; 'dflockd-rx/nestjs' loads through require and import", () => {
  expect(nodeEval(['-e', "require('dflockd-rx'); console.log(Object.keys(require.cache).filter((f) => f.includes('@nestjs')).length)"])).toBe('0');
  expect(nodeEval(['-e', "console.log(Object.keys(require('dflockd-rx/nestjs')).length)"])).toBe('6');
  expect(nodeEval(['--input-type=module', '-e', "const m = await import('dflockd-rx/nestjs'); console.log(typeof m.Locked, typeof m.DflockdModule.forRootAsync)"])).toBe('function function');
});

// The browser and Angular examples are not in tsconfig.json (they need the DOM and bundler
// resolution for the ESM-only Angular packages): their own tsconfig.browser.json type-checks
// them, with dflockd-rx/http resolved to its sources and no Node types at all.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { root } from './harness.js';

test('tsc -p tsconfig.browser.json finds no error in examples/browser and examples/angular', async () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) =>
    execFile(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.browser.json'), '--noEmit', '--pretty', 'false'], { cwd: root, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    ),
  );
  expect(output).toBe('');
  expect(code).toBe(0);
}, 130_000);

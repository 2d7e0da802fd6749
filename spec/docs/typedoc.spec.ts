import { execFile } from 'node:child_process';
import * as path from 'node:path';

// `npm run docs` must build the API reference without a warning: every public symbol documented,
// every {@link} resolvable, nothing referenced that is not exported.
test('TypeDoc validates the public API with no warnings', async () => {
  const root = path.join(__dirname, '..', '..');
  const typedoc = path.join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) =>
    execFile(process.execPath, [typedoc, '--emit', 'none'], { cwd: root, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? 1 : 0, output: `${stdout}${stderr}` }),
    ),
  );
  expect(output).not.toMatch(/\[(warning|error)\]/);
  expect(code).toBe(0);
}, 150_000);

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DflockdTestServer } from '../../lib/testing/index.js';

// The README's HTTP example (examples/http.ts), compiled by the build, run as a user would.
const root = path.join(__dirname, '..', '..');
const server = new DflockdTestServer({ port: 0, host: '127.0.0.1', httpPort: 0 });

beforeAll(() => server.start());
afterAll(() => server.stop());

test('examples/http runs against a server with --http-port and prints what the README says', async () => {
  const file = path.join(root, 'build', 'examples', 'http.js');
  if (!fs.existsSync(file)) throw new Error('build/examples is missing: run `npm run build` first (npm test does)');
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, [file], { cwd: root, env: { ...process.env, DFLOCKD_HTTP_URL: server.httpUrl! }, timeout: 20_000 }, (error, out, err) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: out, stderr: err }),
    ),
  );
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  expect(stdout).toMatch(/^built under [0-9a-f]{32}\nexported 42 rows\n$/);
  expect(server.httpSessionCount).toBe(0);
});

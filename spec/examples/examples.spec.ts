import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { TestServer, startServer } from '../helpers/server.js';

// The README quotes these files; the build type-checks them against the package's own exports
// and this spec runs the compiled output (build/examples) as a user would.
const root = path.join(__dirname, '..', '..');
const tls = path.join(root, 'spec', 'fixtures', 'tls');

function runExample(name: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(root, 'build', 'examples', `${name}.js`)], { cwd: root, env: { ...process.env, ...env }, timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('examples against a plain server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.stop());

  test.each([
    ['demo', /acquired[\s\S]*queued[\s\S]*renewed[\s\S]*confirmed release[\s\S]*finished/],
    ['quick-start-rx', /^acquired reports\nbuilt under [0-9a-f]{32}\n$/],
    ['quick-start-promise', /^holding [0-9a-f]{32} for 33 s; aborted\? false\nwithLock returned 32\n[0-9a-f]{32} 33\n$/],
    ['cancel', /^gave up: TimeoutError\nreleased while waiting: false → acquire\(\) resolved false\n$/],
    ['low-level', /^l granted [0-9a-f]{32}\nr answered ok\n$/],
    ['recipes', /^job done\none lease for both: true\nworker released on shutdown\n$/],
    ['testing', /^through the proxy: true\nreleased: true\npartitioned: TimeoutError\n$/],
    ['manual', /critical section with token [0-9a-f]{32}\s+released: true/],
    ['two-phase', /queue position taken: acquired\s+critical section with token [0-9a-f]{32}/],
    ['semaphore', /(worker \d holds a slot[\s\S]*){4}semaphore acquired/],
    ['stats', /127\.0\.0\.1:\d+: \d+ connections, \d+ locks/],
    ['sharding', /my-resource → server 0\s+user:42 → server 0\s+orders → server 0\s+orders locked on 127\.0\.0\.1/],
    ['nestjs-app', /building weekly…\s+\S+\s+built weekly\s+\S+\s+building monthly…\s+\S+\s+built monthly[\s\S]*one after the other/],
  ])('%s runs and prints what the README says', async (name, expected) => {
    const { code, stdout, stderr } = await runExample(name, { DFLOCKD_SERVERS: `127.0.0.1:${server.port}` });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(expected);
  });

  test('the demo starts its own embedded server when DFLOCKD_SERVERS is unset', async () => {
    const env = { ...process.env };
    delete env['DFLOCKD_SERVERS'];
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) =>
      execFile(process.execPath, [path.join(root, 'build', 'examples', 'demo.js')], { cwd: root, env, timeout: 20_000 }, (error, out) => resolve({ code: error ? 1 : 0, stdout: out })),
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/embedded DflockdTestServer on 127\.0\.0\.1:\d+/);
  });
});

describe('the auth + TLS example', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ authToken: 'mysecret', tlsCert: path.join(tls, 'server.pem'), tlsKey: path.join(tls, 'server-key.pem') });
  });
  afterAll(() => server.stop());

  test('authenticates and verifies the server certificate', async () => {
    const { code, stdout, stderr } = await runExample('auth-tls', { DFLOCKD_SERVERS: `127.0.0.1:${server.port}`, DFLOCKD_TLS_CA: path.join(tls, 'ca.pem') });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/holding [0-9a-f]{32} lease 33/);
  });
});

// `dflockd-rx run`, spawned as a real process from the build (`npm test` builds first).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, useCliProcesses } from '../helpers/cli.js';
import { type TestServer, freePort, startServer } from '../helpers/server.js';

const ROOT = path.join(__dirname, '..', '..');

useCliProcesses();

/** `node -e SCRIPT` as CMD. */
const node = (script: string): string[] => [process.execPath, '-e', script];

// CMD scripts: report "ready", then wait for stdin to end / for a signal.
const UNTIL_STDIN_ENDS = "console.log('ready'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));";
const REPORT_SIGNALS = "for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => { console.log('CMD got ' + s); process.exit(42); }); console.log('ready'); setInterval(() => {}, 1000);";
const IGNORE_SIGTERM = "process.on('SIGTERM', () => console.log('CMD ignores SIGTERM')); console.log('ready'); setInterval(() => {}, 1000);";

describe('dflockd-rx run', () => {
  let server: TestServer;
  let servers: string;
  beforeAll(async () => {
    server = await startServer();
    servers = `127.0.0.1:${server.port}`;
  });
  afterAll(() => server.stop());

  test('--help documents the flags and the exit codes; --version prints the package version', async () => {
    const help = cli(['run', '--help']);
    expect(await help.exit).toEqual({ code: 0, signal: null });
    for (const text of ['run KEY', '--timeout', '--lease', '--limit', '--grace', '--servers', 'DFLOCKD_SERVERS', '--auth-token', '--tls-ca', '64', '69', '75', '76', '77']) {
      expect(help.out.stdout).toContain(text);
    }
    const version = cli(['--version']);
    expect(await version.exit).toEqual({ code: 0, signal: null });
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.out.stdout.trim()).toBe(manifest.version);
  });

  test("exits with CMD's status; CMD finds the key and token in its environment", async () => {
    const run = cli(['run', 'status-key', '--servers', servers, '--', ...node('console.log(process.env.DFLOCKD_LOCK_KEY, process.env.DFLOCKD_LOCK_TOKEN.length > 0); process.exit(3)')]);
    expect(await run.exit).toEqual({ code: 3, signal: null });
    expect(run.out.stdout.trim()).toBe('status-key true');
    // Quiet unless asked: stderr belongs to CMD.
    expect(run.out.stderr).toBe('');
  });

  test('holds the lock while CMD runs: a second run with --timeout 0 exits 75; released when CMD exits', async () => {
    const first = cli(['run', 'held', '--servers', servers, '--', ...node(UNTIL_STDIN_ENDS)]);
    await first.waitFor('ready');
    expect((await server.stats()).locks.map((l) => l.key)).toContain('held');

    const second = cli(['run', 'held', '--timeout', '0', '--servers', servers, '--', ...node("console.log('must not run')")]);
    expect(await second.exit).toEqual({ code: 75, signal: null });
    expect(second.out.stdout).toBe('');
    expect(second.out.stderr).toMatch(/"held" is held elsewhere.*--timeout/);

    first.child.stdin.end();
    expect(await first.exit).toEqual({ code: 0, signal: null });
    const third = cli(['run', 'held', '--timeout', '0', '--servers', servers, '--', ...node('process.exit(0)')]);
    expect(await third.exit).toEqual({ code: 0, signal: null });
  });

  test('--limit N holds one of N semaphore slots', async () => {
    const holders = [0, 1].map(() => cli(['run', 'slots', '--limit', '2', '--servers', servers, '--', ...node(UNTIL_STDIN_ENDS)]));
    await Promise.all(holders.map((h) => h.waitFor('ready')));
    expect((await server.stats()).semaphores).toContainEqual(expect.objectContaining({ key: 'slots', limit: 2, holders: 2 }));
    const third = cli(['run', 'slots', '--limit', '2', '--timeout', '0', '--servers', servers, '--', ...node('')]);
    expect(await third.exit).toEqual({ code: 75, signal: null });
    for (const h of holders) h.child.stdin.end();
    expect(await Promise.all(holders.map((h) => h.exit))).toEqual([0, 1].map(() => ({ code: 0, signal: null })));
  });

  test.each(['SIGINT', 'SIGTERM'] as const)('forwards %s to CMD and exits with its status', async (signal) => {
    const run = cli(['run', `forward-${signal}`, '--servers', servers, '--', ...node(REPORT_SIGNALS)]);
    await run.waitFor('ready');
    run.child.kill(signal);
    expect(await run.exit).toEqual({ code: 42, signal: null });
    expect(run.out.stdout).toContain(`CMD got ${signal}`);
  });

  test('a signal while still waiting for the lock gives up the wait and exits 128+N', async () => {
    const holder = cli(['run', 'queue', '--servers', servers, '--', ...node(UNTIL_STDIN_ENDS)]);
    await holder.waitFor('ready');
    const waiter = cli(['run', 'queue', '--verbose', '--timeout', '30', '--servers', servers, '--', ...node("console.log('must not run')")]);
    await waiter.waitFor('waiting for "queue": queued', 'stderr');
    waiter.child.kill('SIGINT');
    expect(await waiter.exit).toEqual({ code: 130, signal: null });
    expect(waiter.out.stdout).toBe('');
    holder.child.stdin.end();
    expect(await holder.exit).toEqual({ code: 0, signal: null });
  });

  test('exits 128+N when CMD is killed by signal N, 127 when CMD does not exist', async () => {
    const killed = cli(['run', 'killed', '--servers', servers, '--', ...node("process.kill(process.pid, 'SIGKILL')")]);
    expect(await killed.exit).toEqual({ code: 137, signal: null });
    const missing = cli(['run', 'missing', '--servers', servers, '--', 'dflockd-rx-no-such-command']);
    expect(await missing.exit).toEqual({ code: 127, signal: null });
    expect(missing.out.stderr).toContain('dflockd-rx-no-such-command: command not found');
  });

  test.each([
    [['run'], 'KEY'],
    [['run', 'k'], 'CMD'],
    [['run', 'k', '--timeout', 'soon', '--', 'true'], '--timeout'],
    [['run', 'k', '--timeout', '1.5', '--', 'true'], '--timeout'],
    [['run', 'k', '--lease', '0', '--', 'true'], '--lease'],
    [['run', 'k', '--limit', '0', '--', 'true'], '--limit'],
    [['run', 'k', '--grace', '-1', '--', 'true'], '--grace'],
    [['run', 'k', '--bogus', '--', 'true'], '--bogus'],
    [['run', 'k', 'ls', '-la'], "'-l'"],
    [['run', '--servers', 'no-port', 'k', '--', 'true'], '--servers'],
    [['run', '--tls-ca', '/nonexistent/ca.pem', 'k', '--', 'true'], '--tls-ca'],
    [['run', 'two words', '--', 'true'], 'key'],
    [['frobnicate'], 'frobnicate'],
  ])('usage error %j exits 64 naming %s', async (args, flag) => {
    const run = cli(args, { DFLOCKD_SERVERS: servers });
    expect(await run.exit).toEqual({ code: 64, signal: null });
    expect(run.out.stderr).toContain(flag);
  });

  test('exits 69 when no server can be reached', async () => {
    const run = cli(['run', 'k', '--servers', `127.0.0.1:${await freePort()}`, '--', ...node("console.log('must not run')")]);
    expect(await run.exit).toEqual({ code: 69, signal: null });
    expect(run.out.stdout).toBe('');
    expect(run.out.stderr).toMatch(/ECONNREFUSED|connect/);
  });
});

describe('dflockd-rx run with auth', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ authToken: 'sekrit' });
  });
  afterAll(() => server.stop());

  test('takes the token from DFLOCKD_AUTH_TOKEN; a refused token exits 77', async () => {
    const ok = cli(['run', 'auth', '--', ...node('process.exit(5)')], { DFLOCKD_SERVERS: `127.0.0.1:${server.port}`, DFLOCKD_AUTH_TOKEN: 'sekrit' });
    expect(await ok.exit).toEqual({ code: 5, signal: null });
    // The flag beats the environment variable.
    const refused = cli(['run', 'auth', '--auth-token', 'wrong', '--', ...node('process.exit(5)')], { DFLOCKD_SERVERS: `127.0.0.1:${server.port}`, DFLOCKD_AUTH_TOKEN: 'sekrit' });
    expect(await refused.exit).toEqual({ code: 77, signal: null });
  });
});

describe('dflockd-rx run when the lease is lost', () => {
  test('CMD gets SIGTERM and run exits 76', async () => {
    const server = await startServer();
    const run = cli(['run', 'lost', '--servers', `127.0.0.1:${server.port}`, '--', ...node(REPORT_SIGNALS)]);
    await run.waitFor('ready');
    await server.stop();
    expect(await run.exit).toEqual({ code: 76, signal: null });
    expect(run.out.stdout).toContain('CMD got SIGTERM');
    expect(run.out.stderr).toMatch(/lease on "lost" was lost/);
  });

  test('a CMD that ignores SIGTERM gets SIGKILL after --grace', async () => {
    const server = await startServer();
    const run = cli(['run', 'stubborn', '--grace', '0.2', '--servers', `127.0.0.1:${server.port}`, '--', ...node(IGNORE_SIGTERM)]);
    await run.waitFor('ready');
    await server.stop();
    // CMD never exits by itself: run returning at all means the SIGKILL came.
    expect(await run.exit).toEqual({ code: 76, signal: null });
    expect(run.out.stdout).toContain('CMD ignores SIGTERM');
  });
});

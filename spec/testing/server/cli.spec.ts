// `dflockd-rx server`: Go-style flag parsing, env precedence (PROTOCOL.md
// §1.11, §1.5), and the built binary end to end.
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  FlagError,
  parseGoFlags,
  parseGoInt,
  resolveServerConfig,
  serverUsage,
} from '../../../lib/cli/server-command';
import { RawClient, grant } from './raw-client';

const flags = (...argv: string[]) => {
  const parsed = parseGoFlags(argv);
  if (parsed.help) throw new Error('unexpected help');
  return Object.fromEntries(parsed.values);
};

describe('Go flag parsing', () => {
  test.each<[string[], Record<string, unknown>]>([
    [['--port', '7000'], { port: 7000 }],
    [['-port', '7000'], { port: 7000 }],
    [['--port=7000'], { port: 7000 }],
    [['-port=7000'], { port: 7000 }],
    [['--auto-release-on-disconnect'], { 'auto-release-on-disconnect': true }],
    [['--auto-release-on-disconnect=false'], { 'auto-release-on-disconnect': false }],
    [['--auto-release-on-disconnect=0'], { 'auto-release-on-disconnect': false }],
    [['--auto-release-on-disconnect=F'], { 'auto-release-on-disconnect': false }],
    [['--port', '1', '--port', '2'], { port: 2 }],
    [['--host', '-weird'], { host: '-weird' }], // a value may start with a dash
    [['--read-timeout', '0.5'], { 'read-timeout': 0.5 }], // seconds flags also take decimals
    [['--max-locks', '0x10'], { 'max-locks': 16 }],
    [['--max-locks', '010'], { 'max-locks': 8 }],
    [['--max-locks', '1_000'], { 'max-locks': 1000 }],
    [['--max-locks', '+5'], { 'max-locks': 5 }],
    [['--auth-token', ''], { 'auth-token': '' }],
    [['--compat', '1.10'], { compat: '1.10' }],
    [['--compat=2.1'], { compat: '2.1' }],
    [['--'], {}],
    [[], {}],
  ])('%j', (argv, expected) => expect(flags(...argv)).toEqual(expected));

  test.each<[string[], RegExp]>([
    [['--no-auto-release-on-disconnect'], /flag provided but not defined: -no-auto-release-on-disconnect/],
    [['--auto-release-on-disconnect', 'false'], /unexpected argument "false"/],
    [['--auto-release-on-disconnect=maybe'], /invalid boolean value "maybe" for -auto-release-on-disconnect: parse error/],
    [['--port'], /flag needs an argument: -port/],
    [['--port', 'abc'], /invalid value "abc" for flag -port: parse error/],
    [['--port', '1.5'], /invalid value "1.5" for flag -port: parse error/],
    [['--port', '99999999999999999999'], /invalid value "99999999999999999999" for flag -port: value out of range/],
    [['--max-locks', '08'], /parse error/],
    [['--max-locks', '1__0'], /parse error/],
    [['--max-locks', '_1'], /parse error/],
    [['---port', '1'], /bad flag syntax: ---port/],
    [['-=1'], /bad flag syntax/],
    [['--bogus'], /flag provided but not defined: -bogus/],
    [['stray'], /unexpected argument "stray"/],
  ])('%j is refused', (argv, message) => {
    expect(() => parseGoFlags(argv)).toThrow(FlagError);
    expect(() => parseGoFlags(argv)).toThrow(message);
  });

  test.each([['--help'], ['-h'], ['-help']])('%s asks for help', (arg) => {
    expect(parseGoFlags(['--port', '1', arg])).toEqual({ help: true });
  });

  test('parseGoInt follows strconv.ParseInt(s, 0, 64)', () => {
    expect([parseGoInt('0'), parseGoInt('-0'), parseGoInt('0b101'), parseGoInt('0o17'), parseGoInt('0X1f')]).toEqual([0, 0, 5, 15, 31]);
    expect(() => parseGoInt('')).toThrow('parse error');
    expect(() => parseGoInt('0x')).toThrow('parse error');
  });

  test('usage lists every flag with its default and environment variable', () => {
    const usage = serverUsage();
    expect(usage).toContain('--auto-release-on-disconnect\n        Release locks when a client disconnects (default true) [env DFLOCKD_AUTO_RELEASE_ON_DISCONNECT]');
    expect(usage).toContain('--port int');
    expect(usage).toContain('--read-timeout seconds');
  });
});

describe('configuration precedence (§1.11, §1.5)', () => {
  const config = (argv: string[], env: NodeJS.ProcessEnv) => resolveServerConfig(new Map(Object.entries(flags(...argv))), env);

  test('explicit flag > environment > default', () => {
    expect(config(['--default-lease-ttl', '55'], { DFLOCKD_DEFAULT_LEASE_TTL_S: '44' }).defaultLeaseTtl).toBe(55);
    expect(config([], { DFLOCKD_DEFAULT_LEASE_TTL_S: '44' }).defaultLeaseTtl).toBe(44);
    expect(config([], {}).defaultLeaseTtl).toBe(33);
  });

  test('--compat: 2.1 by default, 1.10 when given; a bad value is refused naming the flag', () => {
    expect(config([], {}).compat).toBe('2.1');
    expect(config(['--compat=1.10'], {}).compat).toBe('1.10');
    expect(config(['--compat', '3'], {}).compat).toBe('3'); // validated by the server options, worded by the command
  });

  test('a malformed environment value is ignored', () => {
    expect(config([], { DFLOCKD_MAX_LOCKS: 'lots', DFLOCKD_READ_TIMEOUT_S: '0.5' })).toMatchObject({ maxLocks: 1024, readTimeout: 23 });
  });

  test('boolean environment values: 1/yes/true, 0/no/false, anything else falls back', () => {
    expect(config([], { DFLOCKD_AUTO_RELEASE_ON_DISCONNECT: 'NO' }).autoReleaseOnDisconnect).toBe(false);
    expect(config([], { DFLOCKD_AUTO_RELEASE_ON_DISCONNECT: 'yes' }).autoReleaseOnDisconnect).toBe(true);
    expect(config([], { DFLOCKD_AUTO_RELEASE_ON_DISCONNECT: 'off' }).autoReleaseOnDisconnect).toBe(true);
    expect(config(['--auto-release-on-disconnect=true'], { DFLOCKD_AUTO_RELEASE_ON_DISCONNECT: '0' }).autoReleaseOnDisconnect).toBe(true);
  });

  test('every flag has its environment variable', () => {
    const env = {
      DFLOCKD_HOST: '::1', DFLOCKD_PORT: '7001', DFLOCKD_LEASE_SWEEP_INTERVAL_S: '2', DFLOCKD_GC_LOOP_SLEEP: '3',
      DFLOCKD_GC_MAX_UNUSED_TIME: '4', DFLOCKD_MAX_CONNECTIONS: '5', DFLOCKD_MAX_WAITERS: '6', DFLOCKD_WRITE_TIMEOUT_S: '7',
      DFLOCKD_SHUTDOWN_TIMEOUT_S: '8', DFLOCKD_TLS_CERT: 'c.pem', DFLOCKD_TLS_KEY: 'k.pem',
    };
    expect(config([], env)).toMatchObject({
      host: '::1', port: 7001, leaseSweepInterval: 2, gcInterval: 3, gcMaxIdle: 4, maxConnections: 5, maxWaiters: 6,
      writeTimeout: 7, shutdownTimeout: 8, tlsCert: 'c.pem', tlsKey: 'k.pem',
    });
  });

  test('auth token: DFLOCKD_AUTH_TOKEN > --auth-token > --auth-token-file > DFLOCKD_AUTH_TOKEN_FILE', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dflockd-rx-'));
    const flagFile = path.join(dir, 'flag');
    const envFile = path.join(dir, 'env');
    fs.writeFileSync(flagFile, '  filetok \n');
    fs.writeFileSync(envFile, 'envfiletok\n');
    try {
      expect(config(['--auth-token', 'flagtok'], { DFLOCKD_AUTH_TOKEN: 'envtok' }).authToken).toBe('envtok');
      expect(config(['--auth-token', 'flagtok', '--auth-token-file', flagFile], {}).authToken).toBe('flagtok');
      expect(config(['--auth-token-file', flagFile], { DFLOCKD_AUTH_TOKEN_FILE: envFile }).authToken).toBe('filetok');
      expect(config([], { DFLOCKD_AUTH_TOKEN_FILE: envFile }).authToken).toBe('envfiletok');
      expect(config([], {}).authToken).toBeUndefined();
      expect(() => config(['--auth-token-file', path.join(dir, 'missing')], {})).toThrow(/reading auth token file/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------
// The built binary (npm test builds first).

const MAIN = path.resolve(__dirname, '..', '..', '..', 'dist', 'cjs', 'cli', 'main.js');

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const r: Run = {
    child,
    stdout: '',
    stderr: '',
    exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stdout!.on('data', (d: Buffer) => (r.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (r.stderr += d.toString()));
  return r;
}

async function listeningPort(r: Run): Promise<number> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const m = /listening on 127\.0\.0\.1:(\d+)/.exec(r.stdout);
    if (m) return Number(m[1]);
    if (Date.now() > deadline || r.child.exitCode !== null) throw new Error(`no address printed; stderr: ${r.stderr}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

describe('dflockd-rx server (built CLI)', () => {
  let current: Run | undefined;
  afterEach(async () => {
    await RawClient.closeAll();
    if (current && current.child.exitCode === null && current.child.signalCode === null) {
      current.child.kill('SIGKILL');
      await current.exit;
    }
  });

  test('prints its address, serves the protocol with the given flags, and exits 0 on SIGTERM', async () => {
    current = run(['server', '--port', '0', '--default-lease-ttl=7', '-shutdown-timeout', '1', '--auto-release-on-disconnect=false']);
    const port = await listeningPort(current);
    expect(current.stdout).toBe(`dflockd-rx test server listening on 127.0.0.1:${port}\n`);
    const c = await RawClient.connect(port);
    expect(grant(await c.request('l', 'cli', '0')).lease).toBe(7);
    await c.destroy();
    current.child.kill('SIGTERM');
    expect(await current.exit).toBe(0);
    expect(current.stderr).toContain('SIGTERM: shutting down gracefully');
  });

  test.each([
    [[], 'ok'],
    [['--compat', '1.10'], 'error'],
    [['--compat=2.1'], 'ok'],
  ])('%j: ping answers %s (the compat mode reaches the server)', async (extra, answer) => {
    current = run(['server', '--port', '0', ...extra]);
    const port = await listeningPort(current);
    const c = await RawClient.connect(port);
    expect(await c.request('ping', '_', '')).toBe(answer);
    await c.destroy();
    current.child.kill('SIGTERM');
    expect(await current.exit).toBe(0);
  });

  test('SIGTERM in 2.1: a blocked request gets error, the next one error_draining and a close, exit 0', async () => {
    current = run(['server', '--port', '0', '--shutdown-timeout', '5']);
    const port = await listeningPort(current);
    const [a, b] = await Promise.all([RawClient.connect(port), RawClient.connect(port)]);
    grant(await a.request('l', 'drain', '0'));
    b.send('l\ndrain\n30\n');
    await b.silentFor(100); // blocked behind a
    current.child.kill('SIGTERM');
    expect(await b.line()).toBe('error');
    expect(await b.request('l', 'other', '0')).toBe('error_draining');
    await b.eof();
    expect(await a.request('n', 'drain', 'x')).toBe('error_draining');
    await a.eof();
    expect(await current.exit).toBe(0); // the last connection left: no need to wait 5 s
  });

  test('SIGINT with a connected client: graceful stop force-closes it after --shutdown-timeout, exit 0', async () => {
    current = run(['server', '--port=0', '--shutdown-timeout=0.3'], { DFLOCKD_DEFAULT_LEASE_TTL_S: '44' });
    const port = await listeningPort(current);
    const c = await RawClient.connect(port);
    expect(grant(await c.request('l', 'env', '0')).lease).toBe(44); // env applies when the flag is absent
    current.child.kill('SIGINT');
    await c.eof(3000);
    expect(await current.exit).toBe(0);
  });

  test.each<[string[], number, RegExp, 'stdout' | 'stderr']>([
    [['server', '--no-auto-release-on-disconnect'], 64, /configuration error: flag provided but not defined: -no-auto-release-on-disconnect/, 'stderr'],
    [['server', '--read-timeout', '0'], 64, /configuration error: --read-timeout must be > 0/, 'stderr'],
    [['server', '--tls-cert', 'x.pem'], 64, /configuration error: --tls-cert and --tls-key must be provided together/, 'stderr'],
    [['server', '--compat', '1.11'], 64, /configuration error: --compat must be one of '2\.1', '1\.10' \(got 1\.11\)/, 'stderr'],
    [['server', '--help'], 0, /Usage: dflockd-rx server \[flags\]/, 'stdout'],
    [['--help'], 0, /Commands:[\s\S]*\n {2}server +run the in-process/, 'stdout'],
    [['nope'], -1, /unknown command "nope"/, 'stderr'],
  ])('%j exits %d (-1: any failure)', async (args, code, message, stream) => {
    current = run(args);
    const exit = await current.exit;
    if (code === -1) expect(exit).not.toBe(0);
    else expect(exit).toBe(code);
    expect(current[stream]).toMatch(message);
  });
});

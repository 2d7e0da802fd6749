// The one server fixture of the specs: `startServer` starts the in-process DflockdTestServer (or the
// real dflockd, see below) on a free or a chosen port; `useServer` wraps it in describe-scoped hooks
// with raw clients, for the specs that drive the server byte by byte.
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import type { DflockdTestServer, DflockdTestServerOptions } from '../../lib/testing/index.js';
import { RawClient } from './raw-client.js';

/** Options of the server itself; it always binds 127.0.0.1 and takes its port from {@link StartServerOptions}. */
export type ServerOptions = Omit<DflockdTestServerOptions, 'port' | 'host'>;

/** Where and what {@link startServer} starts. */
export interface StartServerOptions {
  /** 0 (the default) takes a free port; a fixed one lets a restart test start a second server where the first was. */
  readonly port?: number;
  /**
   * Always the in-process server in the mode `options` ask for (its own default otherwise), whatever
   * DFLOCKD_REAL_SERVER_BIN and DFLOCKD_TEST_COMPAT say: those choose the server the client suites
   * run against, while the server's own specs test DflockdTestServer itself.
   */
  readonly inProcess?: boolean;
}

/** A running server for one test file. */
export interface TestServer {
  readonly port: number;
  /** `[['127.0.0.1', port]]`, ready for `servers`. */
  readonly servers: Array<[string, number]>;
  /** The in-process server; undefined when the real dflockd runs. */
  readonly instance: DflockdTestServer | undefined;
  /** Raw `stats` JSON over a fresh connection (authenticating first if the server wants a token). */
  stats(): Promise<RawStats>;
  /** In process: closes everything at once. Real dflockd: SIGKILL. */
  stop(): Promise<void>;
}

/** The server's stats JSON as sent. */
export interface RawStats {
  connections: number;
  locks: Array<{ key: string; owner_conn_id: number; lease_expires_in_s: number; waiters: number }>;
  semaphores: Array<{ key: string; limit: number; holders: number; waiters: number }>;
  idle_locks: Array<{ key: string; idle_s: number }>;
  idle_semaphores: Array<{ key: string; idle_s: number }>;
}

/** Set to a dflockd binary to run the client suites against the real server (integer-second flags only). */
export const REAL_SERVER_BIN = process.env['DFLOCKD_REAL_SERVER_BIN'];

/**
 * The dflockd generation the suite runs against: DFLOCKD_TEST_COMPAT (`2.1` or `1.10`), so the
 * whole client suite can run against either. By default `2.1` for the in-process server, and
 * `1.10` with DFLOCKD_REAL_SERVER_BIN (the real server these suites are cross-checked with is
 * v1.10.0; say `DFLOCKD_TEST_COMPAT=2.1` for a 2.x binary). An explicit `compat` option of a test wins.
 */
export function testCompat(): '2.1' | '1.10' {
  const raw = process.env['DFLOCKD_TEST_COMPAT'] || (process.env['DFLOCKD_REAL_SERVER_BIN'] ? '1.10' : '2.1');
  if (raw !== '2.1' && raw !== '1.10') throw new Error(`DFLOCKD_TEST_COMPAT must be 2.1 or 1.10 (got ${raw})`);
  return raw;
}

/**
 * Starts the in-process DflockdTestServer on 127.0.0.1 at `port` (0 = a free one), in the mode
 * {@link testCompat} names unless `options.compat` says otherwise. With DFLOCKD_REAL_SERVER_BIN set to
 * a dflockd binary (and not `inProcess`), starts that instead with the same flags, so the suites can
 * be cross-checked against the real server by hand; CI never sets it.
 */
export async function startServer(options: ServerOptions = {}, { port = 0, inProcess = false }: StartServerOptions = {}): Promise<TestServer> {
  if (REAL_SERVER_BIN && !inProcess) return startReal(REAL_SERVER_BIN, port, options);
  // Loaded on demand: a run against the real dflockd never loads the in-process server.
  const { DflockdTestServer } = await import('../../lib/testing/index.js');
  const server = new DflockdTestServer({ ...(inProcess ? {} : { compat: testCompat() }), ...options, port, host: '127.0.0.1' });
  const bound = await server.start();
  return {
    port: bound,
    servers: [['127.0.0.1', bound]],
    instance: server,
    stats: () => rawStats(bound, options.authToken),
    stop: () => server.stop(),
  };
}

/** The real dflockd on `port`; on port 0 a port picked here may be taken by another worker before dflockd binds it, so pick again. */
async function startReal(bin: string, port: number, options: ServerOptions): Promise<TestServer> {
  for (let attempt = 0; port === 0 && attempt < 4; attempt++) {
    const started = await spawnReal(bin, await freePort(), options);
    if (started !== undefined) return started;
  }
  const started = await spawnReal(bin, port === 0 ? await freePort() : port, options);
  if (started === undefined) throw new Error(`dflockd could not listen on 127.0.0.1:${port}`);
  return started;
}

/** Spawns dflockd; resolves once it logs that it listens, or undefined if it exits first (port taken) or stays silent for 5 s. */
async function spawnReal(bin: string, port: number, options: ServerOptions): Promise<TestServer | undefined> {
  // compat and staleTokenOnWait describe the in-process server only; dflockd has no such flags.
  const flags = Object.entries(options)
    .filter(([name]) => name !== 'compat' && name !== 'staleTokenOnWait')
    .map(([name, value]) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}=${String(value)}`);
  const child = spawn(bin, ['--host', '127.0.0.1', '--port', String(port), ...flags], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = await new Promise<boolean>((resolve) => {
    let log = '';
    const timer = setTimeout(() => resolve(false), 5_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
      if (log.includes('msg=listening')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  child.stderr!.resume();
  if (!listening) {
    child.kill('SIGKILL');
    await exited;
    return undefined;
  }
  return {
    port,
    servers: [['127.0.0.1', port]],
    instance: undefined,
    stats: () => rawStats(port, options.authToken),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The server of a describe block, set up by {@link useServer}; the fields are valid once its beforeAll hook has run. */
export interface ServerFixture {
  readonly server: DflockdTestServer;
  readonly port: number;
  readonly servers: Array<[string, number]>;
  /** A new raw TCP client. */
  connect(): Promise<RawClient>;
  /** `stats` over a fresh connection, parsed. */
  stats(): Promise<RawStats>;
}

/**
 * One in-process server (see {@link StartServerOptions.inProcess}) for the enclosing describe: started on a
 * free port before its tests, every raw client closed after each test, the server stopped after all.
 * With `concurrent` (for `test.concurrent` blocks, whose afterEach hooks overlap other tests) clients
 * are only closed after all tests.
 */
export function useServer(options: ServerOptions = {}, { concurrent = false } = {}): ServerFixture {
  let started: TestServer | undefined;
  beforeAll(async () => {
    started = await startServer(options, { inProcess: true });
  });
  if (!concurrent) afterEach(() => RawClient.closeAll());
  afterAll(async () => {
    await RawClient.closeAll();
    await started?.stop();
  });
  return {
    get server() {
      return started!.instance!;
    },
    get port() {
      return started!.port;
    },
    get servers() {
      return started!.servers;
    },
    connect: () => RawClient.connect(started!.port),
    stats: () => started!.stats(),
  };
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Sends `stats` on a fresh connection (authenticating first if needed), closes it and parses the JSON. */
export function rawStats(port: number, authToken?: string): Promise<RawStats> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buffer = '';
    let expect = authToken ? 2 : 1;
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${authToken ? `auth\n_\n${authToken}\n` : ''}stats\n_\n\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      if (lines.length - 1 < expect) return;
      expect = 0;
      const line = lines[authToken ? 1 : 0]!;
      // Settled once the socket is closed, so the next stats call does not count this connection.
      socket.once('close', () => (line.startsWith('ok {') ? resolve(JSON.parse(line.slice(3)) as RawStats) : reject(new Error(`stats failed: ${line}`))));
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

import { spawn } from 'node:child_process';
import * as net from 'node:net';
import type { DflockdTestServerOptions } from '../../lib/testing/index.js';

/** A running server for one test file. */
export interface TestServer {
  readonly port: number;
  /** `[['127.0.0.1', port]]`, ready for `servers`. */
  readonly servers: Array<[string, number]>;
  /** Raw `stats` JSON over a fresh connection. */
  stats(): Promise<RawStats>;
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

/**
 * The compat mode of the in-process server: DFLOCKD_TEST_COMPAT (`2.1`, the default, or `1.10`),
 * so the whole client suite can run against either dflockd generation. An explicit `compat`
 * option of a test wins.
 */
export function testCompat(): '2.1' | '1.10' {
  const raw = process.env['DFLOCKD_TEST_COMPAT'] || '2.1';
  if (raw !== '2.1' && raw !== '1.10') throw new Error(`DFLOCKD_TEST_COMPAT must be 2.1 or 1.10 (got ${raw})`);
  return raw;
}

/**
 * Starts the in-process DflockdTestServer on a free port. With DFLOCKD_REAL_SERVER_BIN set to a
 * dflockd binary, starts that instead (same flags), so the suite can be cross-checked against
 * the real server by hand; CI never sets it.
 */
export async function startServer(options: Omit<DflockdTestServerOptions, 'port'> = {}): Promise<TestServer> {
  const real = process.env['DFLOCKD_REAL_SERVER_BIN'];
  if (real) return startReal(real, options);
  const { DflockdTestServer } = await import('../../lib/testing/index.js');
  const server = new DflockdTestServer({ compat: testCompat(), ...options, port: 0, host: '127.0.0.1' });
  const port = await server.start();
  return {
    port,
    servers: [['127.0.0.1', port]],
    stats: () => rawStats(port, options.authToken),
    stop: () => server.stop(),
  };
}

async function startReal(bin: string, options: Omit<DflockdTestServerOptions, 'port'>): Promise<TestServer> {
  const port = await freePort();
  // compat and staleTokenOnWait describe the in-process server only; dflockd has no such flags.
  const flags = Object.entries(options).filter(([name]) => name !== 'compat' && name !== 'staleTokenOnWait').flatMap(([name, value]) => [`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}=${String(value)}`]);
  const child = spawn(bin, ['--host', '127.0.0.1', '--port', String(port), ...flags], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await canConnect(port)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    servers: [['127.0.0.1', port]],
    stats: () => rawStats(port, options.authToken),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
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

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Sends `stats` on a fresh connection (authenticating first if needed) and parses the JSON. */
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
      socket.destroy();
      const line = lines[authToken ? 1 : 0]!;
      if (!line.startsWith('ok {')) reject(new Error(`stats failed: ${line}`));
      else resolve(JSON.parse(line.slice(3)) as RawStats);
    });
    socket.on('error', reject);
  });
}

/** Polls `check` until it returns true (bounded: `tries` × `everyMs`). For server-side effects with no event to await. */
export async function eventually(check: () => Promise<boolean> | boolean, what: string, tries = 100, everyMs = 20): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`never happened: ${what}`);
}

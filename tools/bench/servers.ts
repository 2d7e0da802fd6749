/**
 * The servers a bench run talks to: an external one (`--servers`), or an embedded
 * {@link DflockdTestServer} — by default in a child Node process running `dflockd-rx server`,
 * so that the server does not share the event loop of the client it is measuring.
 *
 * @module
 */

import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DflockdTestServer } from '../../lib/testing/server/test-server.js';
import type { EmbeddedMode } from './options.js';

/** A server the bench can connect to. */
export interface BenchServer {
  readonly host: string;
  readonly port: number;
  /** How it runs: `external`, `embedded (child process)` or `embedded (in-process)`. */
  readonly kind: 'external' | 'embedded-child' | 'embedded-in-process';
  readonly tls: boolean;
  /** The base URL of its HTTP API, when one was asked for ({@link EmbeddedServerOptions.http}). */
  readonly httpUrl?: string | undefined;
  /** Stops an embedded server; a no-op for an external one. */
  stop(): Promise<void>;
}

/** How to start an embedded server. */
export interface EmbeddedServerOptions {
  readonly mode: EmbeddedMode;
  readonly maxLocks: number;
  readonly authToken?: string | undefined;
  readonly tlsCert?: string | undefined;
  readonly tlsKey?: string | undefined;
  /** Extra Node flags for a child server (e.g. `--cpu-prof`). */
  readonly nodeArgs?: readonly string[];
  /** Also serve the HTTP API, on a free loopback port (`--http-port 0`). @default false */
  readonly http?: boolean;
}

/** An external server, as given. */
export function externalServer(host: string, port: number, tls: boolean): BenchServer {
  return { host, port, kind: 'external', tls, stop: () => Promise.resolve() };
}

/**
 * The built `dflockd-rx` CLI script to run a child server with, or undefined when this code is
 * not running from the build (e.g. under ts-jest): the caller then falls back to in-process.
 */
export function cliScript(): string | undefined {
  // build/tools/bench/servers.js → dist/cjs/cli/main.js of the same checkout.
  if (!/build[\\/]tools[\\/]bench$/.test(__dirname)) return undefined;
  const script = path.join(__dirname, '..', '..', '..', 'dist', 'cjs', 'cli', 'main.js');
  return fs.existsSync(script) ? script : undefined;
}

/** Starts an embedded DflockdTestServer on a free loopback port. */
export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<BenchServer> {
  const tls = options.tlsCert !== undefined && options.tlsKey !== undefined;
  const script = options.mode === 'child' ? cliScript() : undefined;
  if (script === undefined) {
    const server = new DflockdTestServer({
      port: 0,
      host: '127.0.0.1',
      maxLocks: options.maxLocks,
      shutdownTimeout: 1,
      ...(options.authToken !== undefined ? { authToken: options.authToken } : {}),
      ...(tls ? { tlsCert: options.tlsCert, tlsKey: options.tlsKey } : {}),
      ...(options.http ? { httpPort: 0 } : {}),
    });
    const port = await server.start();
    return { host: '127.0.0.1', port, kind: 'embedded-in-process', tls, httpUrl: server.httpUrl, stop: () => server.stop() };
  }
  const args = [
    ...(options.nodeArgs ?? []),
    script,
    'server',
    '--host=127.0.0.1',
    '--port=0',
    `--max-locks=${options.maxLocks}`,
    '--shutdown-timeout=1',
    ...(options.authToken !== undefined ? [`--auth-token=${options.authToken}`] : []),
    ...(tls ? [`--tls-cert=${options.tlsCert}`, `--tls-key=${options.tlsKey}`] : []),
    ...(options.http ? ['--http-port=0'] : []),
  ];
  // The server command reads DFLOCKD_* variables; only the flags above should configure it.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DFLOCKD_')));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const { port, httpUrl } = await listening(child);
  return { host: '127.0.0.1', port, kind: 'embedded-child', tls, httpUrl, stop: () => stopChild(child) };
}

const STARTUP_TIMEOUT_MS = 15_000;

/** The ports of the server's `listening on host:port[, HTTP API on url]` line. */
function listening(child: ChildProcess): Promise<{ port: number; httpUrl: string | undefined }> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`bench: the embedded server did not start (${why})${err ? `: ${err.trim()}` : ''}`));
    };
    const timer = setTimeout(() => fail(`no "listening" line within ${STARTUP_TIMEOUT_MS / 1000} s`), STARTUP_TIMEOUT_MS);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      if (err.length < 4096) err += chunk;
    });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      // The whole line: with --http-port its URL follows the TCP address.
      const m = /listening on \S*:(\d+)[^\n]*?(?:, HTTP API on (\S+))?\r?\n/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({ port: Number(m[1]), httpUrl: m[2] });
      }
    });
    child.once('error', (error) => fail(error.message));
    child.once('exit', (code, signal) => fail(`exited with ${signal ?? code}`));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    // SIGTERM is a graceful stop (and lets a --cpu-prof child write its profile); SIGKILL if it hangs.
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.removeAllListeners('exit');
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The test TLS material (`spec/fixtures/tls`) when this is a source checkout, else undefined. */
export function findTlsFixtures(): { readonly ca: string; readonly cert: string; readonly key: string } | undefined {
  const starts = [process.cwd()];
  if (typeof __dirname === 'string') starts.push(__dirname);
  for (const start of starts) {
    let dir = start;
    for (let depth = 0; depth < 6; depth++) {
      const fixtures = path.join(dir, 'spec', 'fixtures', 'tls');
      const files = { ca: path.join(fixtures, 'ca.pem'), cert: path.join(fixtures, 'server.pem'), key: path.join(fixtures, 'server-key.pem') };
      if (Object.values(files).every((file) => fs.existsSync(file))) return files;
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return undefined;
}

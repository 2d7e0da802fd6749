/**
 * {@link DflockdTestServer}: an in-process server that speaks the dflockd
 * wire protocol with the same observable behaviour as dflockd 2.1 or v1.10.0
 * (see PROTOCOL.md), for tests, demos and benchmarks without a Go binary.
 *
 * @module
 */

import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { type CompatMode, type CompatRules, compatRules } from './compat.js';
import { type ConnectionHost, ServerConnection } from './connection.js';
import { durationSeconds, optionSecondsToDuration } from './go-text.js';
import { HttpFrontEnd } from './http/http-front-end.js';
import { LockCore } from './lock-core.js';
import { type DflockdTestServerOptions, type ResolvedServerOptions, resolveServerOptions } from './options.js';
import { RequestParser } from './request-parser.js';
import { type DflockdServerStats, parseStats, renderStats } from './stats.js';
import { type Cancelable, after, every } from './timers.js';

export type { CompatMode } from './compat.js';
export type { DflockdTestServerOptions } from './options.js';
export type { DflockdServerStats, IdleStats, LockStats, SemaphoreStats } from './stats.js';

/** How {@link DflockdTestServer.stop} ends the server. */
export interface StopOptions {
  /**
   * `false` (default): close everything at once. Blocked requests still get
   * their `error` reply before every connection is closed.
   *
   * `true`: dflockd's SIGTERM behaviour. The listener closes (new connections
   * are refused), blocked `l`/`sl`/`w`/`sw` get `error`, lease sweeps and GC
   * stop, existing connections are served normally until they leave, and any
   * left after `shutdownTimeout` seconds are force-closed (0 = wait forever).
   */
  readonly graceful?: boolean;
}

type Phase = 'idle' | 'starting' | 'running' | 'stopping';

const noop = (): void => undefined;

/**
 * An in-process dflockd-compatible lock server, as dflockd 2.1 (the default)
 * or v1.10.0 (`compat: '1.10'`).
 *
 * It reproduces the protocol rule by rule: 3-line framing and the 256-byte line
 * limit, FIFO grants per key, lease expiry sweeps, two-phase `e`/`w`, auth,
 * TLS, the per-line read timeout, max-locks/waiters/connections, auto-release
 * on disconnect, idle-key GC and the exact `stats` JSON.
 *
 * `'2.1'` adds what v1.14–v2.1.1 changed (PROTOCOL.md Part 2): `ping`, separate
 * lock and semaphore key spaces, stale tokens refused, waiters dropped on any
 * disconnect and a peer leaving while blocked noticed, seconds beyond
 * 9223372036 refused, a strict `e`, `error_draining` during a graceful stop,
 * 64 KiB auth lines and fencing tokens. `'1.10'` is v1.10.0 with its bugs: the
 * stale token of a late `w` (see `staleTokenOnWait`), a `maxConnections` a
 * burst of connects can overshoot, wrapping seconds. Options also accept
 * fractional seconds.
 *
 * With `httpPort` (`'2.1'` only) it also serves dflockd 2.x's HTTP API
 * (PROTOCOL.md Part 3) on the same lock core: HTTP sessions hold and wait like
 * TCP connections, under the same rules and with tokens from the same fence sequence.
 *
 * Introspection for tests: {@link port}, {@link address}, {@link connectionCount},
 * {@link blockedCount} and {@link stats} read the live state without a connection.
 *
 * @example
 * ```ts
 * const server = new DflockdTestServer({ port: 0, leaseSweepInterval: 0.1 });
 * const port = await server.start();
 * // ... connect clients to 127.0.0.1:port ...
 * await server.stop();
 * ```
 */
export class DflockdTestServer {
  /** The validated options, defaults filled in. */
  readonly options: ResolvedServerOptions;

  private phase: Phase = 'idle';
  private listener: net.Server | undefined;
  private secureContext: tls.SecureContext | undefined;
  private boundPort = 0;
  private lockCore: LockCore | undefined;
  private connectionHost!: ConnectionHost;
  private readonly parser: RequestParser;
  private readonly rules: CompatRules;
  private readonly defaultLeaseSec: number;
  private readonly authToken: Buffer | undefined;
  private readonly connections = new Set<ServerConnection>();
  private readonly sockets = new Set<net.Socket>();
  private timers: Cancelable[] = [];
  private starting: Promise<number> | undefined;
  private stopping: Promise<void> | undefined;
  private forceClose: (() => void) | undefined;
  private forceRequested = false;
  private onConnectionsGone: (() => void) | undefined;
  private http: HttpFrontEnd | undefined;

  /** Validates the options (throws a RangeError/TypeError naming the bad one); nothing is bound yet. */
  constructor(options: DflockdTestServerOptions = {}) {
    this.options = resolveServerOptions(options);
    this.rules = compatRules(this.options.compat, { staleTokenOnWait: this.options.staleTokenOnWait });
    const leaseNs = optionSecondsToDuration(this.options.defaultLeaseTtl);
    this.parser = new RequestParser(leaseNs, this.rules);
    this.defaultLeaseSec = durationSeconds(leaseNs);
    this.authToken = this.options.authToken === undefined ? undefined : Buffer.from(this.options.authToken, 'utf8');
  }

  /** The dflockd release line this server reproduces. */
  get compat(): CompatMode {
    return this.rules.mode;
  }

  /** The bound port once started (the configured one before). */
  get port(): number {
    return this.boundPort || this.options.port;
  }

  /** The bound port of the HTTP API once started; `undefined` when it is not configured. */
  get httpPort(): number | undefined {
    return this.http?.port || this.options.httpPort;
  }

  /** `http://host:port` of the HTTP API (`https` with TLS; IPv6 hosts in brackets), or `undefined` without one. */
  get httpUrl(): string | undefined {
    const port = this.httpPort;
    if (port === undefined) return undefined;
    const host = this.options.httpHost;
    return `${this.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  /** Open HTTP sessions (0 without an HTTP listener). */
  get httpSessionCount(): number {
    return this.http?.sessionCount ?? 0;
  }

  /** The bind host. */
  get host(): string {
    return this.options.host;
  }

  /** `host:port` to connect to (IPv6 hosts in brackets). */
  get address(): string {
    return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** Whether the listener accepts connections. */
  get listening(): boolean {
    return this.phase === 'running';
  }

  /** Whether the listener uses TLS. */
  get tls(): boolean {
    return this.options.tlsCert !== undefined;
  }

  /** Connections currently handled, plus other front-ends' sessions (the `connections` figure of `stats`). */
  get connectionCount(): number {
    return this.phase === 'idle' ? 0 : (this.lockCore?.connectionCount ?? 0);
  }

  /** Requests currently blocked in `l`/`sl`/`w`/`sw`: lets a test await "queued" without sleeping. */
  get blockedCount(): number {
    return this.phase === 'idle' ? 0 : (this.lockCore?.handlers.blockedCount ?? 0);
  }

  /**
   * A snapshot of the lock state, exactly the document the `stats` command
   * returns (same snake_case fields), as objects.
   */
  stats(): DflockdServerStats {
    if (this.phase === 'idle' || !this.lockCore) {
      return { connections: 0, locks: [], semaphores: [], idle_locks: [], idle_semaphores: [] };
    }
    return parseStats(renderStats(this.lockCore.table, this.connectionCount));
  }

  /**
   * @internal For another front-end of this server (the HTTP one): the lock
   * state, handlers, rules and owner ids every front-end shares. Undefined
   * unless running (or stopping).
   */
  get core(): LockCore | undefined {
    return this.phase === 'running' || this.phase === 'stopping' ? this.lockCore : undefined;
  }

  /**
   * Binds the listener (loading the TLS files first if configured) and starts
   * the lease sweep and GC timers. Resolves with the bound port. Each start
   * begins with empty state, as a restarted dflockd does.
   */
  start(): Promise<number> {
    if (this.phase !== 'idle') return Promise.reject(new Error(`DflockdTestServer: start() called while ${this.phase}`));
    this.phase = 'starting';
    this.starting = this.bind().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async bind(): Promise<number> {
    try {
      let pem: { cert: Buffer; key: Buffer } | undefined;
      if (this.options.tlsCert !== undefined && this.options.tlsKey !== undefined) {
        const [cert, key] = await Promise.all([fs.readFile(this.options.tlsCert), fs.readFile(this.options.tlsKey)]);
        this.secureContext = tls.createSecureContext({ cert, key, minVersion: 'TLSv1.2' });
        pem = { cert, key };
      }
      // Fresh state, ids from 1 and fences seeded from the clock: as a restarted dflockd.
      const core = new LockCore(this.options, this.rules, this.parser, this.defaultLeaseSec, () => this.connections.size);
      this.lockCore = core;
      this.connectionHost = {
        parser: this.parser,
        handlers: core.handlers,
        rules: this.rules,
        authToken: this.authToken,
        readTimeoutMs: this.options.readTimeout * 1000,
        writeTimeoutMs: this.options.writeTimeout * 1000,
        connectionEnded: (conn) => this.connectionEnded(conn),
      };
      const listener = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.accept(socket));
      await new Promise<void>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen(this.options.port, this.options.host, () => {
          listener.off('error', reject);
          resolve();
        });
      });
      listener.on('error', noop);
      this.listener = listener;
      this.boundPort = (listener.address() as net.AddressInfo).port;
      if (this.options.httpPort !== undefined) await this.bindHttp(core, pem);
      this.timers = [
        every(this.options.leaseSweepInterval * 1000, () => core.table.sweep()),
        every(this.options.gcInterval * 1000, () => core.table.collectGarbage()),
      ];
      this.phase = 'running';
      return this.boundPort;
    } catch (err) {
      // An HTTP port already in use must not leave the TCP listener bound.
      this.listener?.close();
      this.listener = undefined;
      this.http = undefined;
      this.lockCore = undefined;
      this.phase = 'idle';
      throw err;
    }
  }

  private async bindHttp(core: LockCore, pem: { cert: Buffer; key: Buffer } | undefined): Promise<void> {
    const o = this.options;
    const http = new HttpFrontEnd({
      tls: pem,
      host: o.httpHost,
      port: o.httpPort!,
      corsAllowedOrigins: o.httpCorsAllowedOrigins,
      sessionIdleTimeoutS: o.httpSessionIdleTimeout,
      authToken: this.authToken,
      core,
    });
    await http.start();
    this.http = http;
  }

  /**
   * Stops the server; resolves once the listener and every socket are closed.
   * Safe to call repeatedly; a fast stop during a graceful one force-closes at once.
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.stopping) {
      if (!options.graceful) {
        this.forceRequested = true;
        this.forceClose?.();
      }
      return this.stopping;
    }
    // A stop racing a start (e.g. an afterAll after a slow beforeAll) stops what the start brings up.
    if (this.starting) return this.starting.then(() => this.stop(options), () => undefined);
    if (this.phase !== 'running') return Promise.resolve();
    this.phase = 'stopping';
    this.forceRequested = options.graceful !== true;
    this.stopping = this.shutdown().finally(() => {
      this.stopping = undefined;
      this.lockCore = undefined;
      this.forceClose = undefined;
      this.phase = 'idle';
    });
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const listenerClosed = new Promise<void>((resolve) => this.listener!.close(() => resolve()));
    for (const timer of this.timers) timer.cancel();
    this.timers = [];
    // Also what the HTTP front-end reads as draining (`/ready`, lock calls).
    this.lockCore!.handlers.beginShutdown();
    // Let the `error` replies of the cancelled requests be written first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!this.forceRequested && this.connections.size > 0) {
      await new Promise<void>((resolve) => {
        const deadline = this.options.shutdownTimeout > 0 ? after(this.options.shutdownTimeout * 1000, resolve) : undefined;
        const done = (): void => {
          deadline?.cancel();
          resolve();
        };
        this.forceClose = done;
        this.onConnectionsGone = done;
      });
      this.onConnectionsGone = undefined;
    }
    for (const conn of [...this.connections]) conn.close();
    await Promise.all([listenerClosed, this.socketsClosed(), this.http?.stop()]);
    this.listener = undefined;
    this.http = undefined;
  }

  private socketsClosed(): Promise<void> {
    const open = [...this.sockets].filter((s) => !s.closed);
    return Promise.all(open.map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())))).then(noop);
  }

  private accept(raw: net.Socket): void {
    raw.on('error', noop);
    this.sockets.add(raw);
    raw.once('close', () => this.sockets.delete(raw));
    const max = this.options.maxConnections;
    if (this.phase !== 'running' || (max > 0 && this.connections.size >= max)) {
      // dflockd accepts, then closes without a word; unread data turns this into a reset.
      raw.destroy();
      return;
    }
    const id = this.lockCore!.nextId();
    // v1.10.0 counts a connection only once its goroutine runs: accepts of one burst all pass the check.
    if (this.rules.lateConnectionCount) setImmediate(() => this.open(raw, id));
    else this.open(raw, id);
  }

  private open(raw: net.Socket, id: number): void {
    if (this.phase !== 'running' || raw.destroyed) {
      raw.destroy();
      return;
    }
    let socket: net.Socket = raw;
    if (this.secureContext) {
      // Wrapped by hand so the TCP accept (ids, max-connections) precedes the
      // handshake, which then runs under the first line's read deadline, as in Go.
      socket = new tls.TLSSocket(raw, { isServer: true, secureContext: this.secureContext });
    }
    const conn = new ServerConnection(id, socket, this.connectionHost);
    this.connections.add(conn);
    conn.start();
  }

  private connectionEnded(conn: ServerConnection): void {
    this.connections.delete(conn);
    this.lockCore!.ownerEnded(conn.id);
    // A graceful stop waits for TCP clients only; HTTP sessions end when the HTTP listener stops.
    if (this.connections.size === 0) this.onConnectionsGone?.();
  }
}

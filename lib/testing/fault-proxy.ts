import * as net from 'node:net';
import { Subject, type Observable } from 'rxjs';
import { FaultConnection } from './fault-proxy/fault-connection.js';
import { FaultControls } from './fault-proxy/fault-controls.js';
import {
  checkBlackholeMode,
  checkLatency,
  directionsOf,
  type BlackholeOptions,
  type FaultDirection,
  type LatencyOptions,
  type RefuseOptions,
} from './fault-proxy/faults.js';
import { resolveFaultProxyOptions, type FaultProxyOptions, type ResolvedFaultProxyOptions } from './fault-proxy/options.js';
import type { PipeFaults } from './fault-proxy/pipe.js';

export { FaultConnection } from './fault-proxy/fault-connection.js';
export type { FaultProxyOptions } from './fault-proxy/options.js';
export type { BlackholeMode, BlackholeOptions, FaultDirection, LatencyOptions, RefuseOptions } from './fault-proxy/faults.js';

/**
 * A TCP proxy between clients and a server that injects network faults:
 * latency, black-holes (partitions), resets, half-closes, drops and refused
 * connections — for every connection, present and future, or for one.
 *
 * Latency and black-holes are states: they apply to current connections and
 * to every connection accepted later, until `heal()`. `reset()`, `drop()` and
 * `halfClose()` act once, on the connections open at the time. Per-connection
 * calls on {@link FaultConnection} override the proxy-wide state for that
 * connection; a later proxy-wide call overrides them again.
 *
 * @example
 * ```ts
 * const proxy = new FaultProxy({ target: { port: serverPort } });
 * const port = await proxy.start();
 * const accepted = firstValueFrom(proxy.connection$);
 * const client = connectClient({ port });   // the code under test
 * const connection = await accepted;
 * connection.blackhole();                    // partition this client
 * // … assert what the client sees …
 * proxy.heal();
 * await proxy.stop();
 * ```
 */
export class FaultProxy extends FaultControls {
  /** Address the proxy listens on. */
  readonly host: string;
  private readonly options: ResolvedFaultProxyOptions;
  private readonly defaults: Record<'toServer' | 'toClient', PipeFaults> = {
    toServer: { latencyMs: 0, blackhole: undefined },
    toClient: { latencyMs: 0, blackhole: undefined },
  };
  private readonly live = new Set<FaultConnection>();
  /** Refused sockets still closing, so stop() can finish them off. */
  private readonly refused = new Set<net.Socket>();
  private readonly accepted = new Subject<FaultConnection>();
  private refusing: RefuseOptions | undefined;
  private server: net.Server | undefined;
  private boundPort: number | undefined;
  private starting: Promise<number> | undefined;
  private stopping: Promise<void> | undefined;
  private nextId = 1;

  /**
   * Emits each connection once its upstream socket has connected, before any
   * byte is forwarded: a fault set synchronously in the subscriber applies
   * from the first byte (after an `await`, the first bytes may already have
   * passed). Completes on `stop()`. Hot: subscribe before the client connects.
   *
   * @example
   * ```ts
   * const next = firstValueFrom(proxy.connection$);
   * socket = net.connect(port);
   * (await next).setLatency(50);
   * ```
   */
  readonly connection$: Observable<FaultConnection> = this.accepted.asObservable();

  /**
   * Validates the options; nothing is opened until `start()`.
   *
   * @throws RangeError naming the option, for a non-loopback host or a bad port.
   */
  constructor(options: FaultProxyOptions) {
    super();
    this.options = resolveFaultProxyOptions(options);
    this.host = this.options.host;
  }

  /**
   * The port the proxy listens on.
   *
   * @throws Error before `start()` has resolved.
   */
  get port(): number {
    if (this.boundPort === undefined) throw new Error('FaultProxy: port is known once start() has resolved');
    return this.boundPort;
  }

  /** Open connections (accepted and not yet fully closed), oldest first. A snapshot. */
  get connections(): readonly FaultConnection[] {
    return [...this.live];
  }

  /** Number of open connections. */
  get activeConnections(): number {
    return this.live.size;
  }

  /**
   * Starts listening; resolves with the bound port. Calling it again returns
   * the same promise.
   *
   * @example
   * ```ts
   * const port = await proxy.start();
   * ```
   */
  start(): Promise<number> {
    if (this.stopping) return Promise.reject(new Error('FaultProxy: start() after stop(); create a new proxy'));
    this.starting ??= new Promise<number>((resolve, reject) => {
      const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
      server.on('connection', (socket) => this.onConnection(socket));
      server.once('error', reject);
      server.listen({ host: this.host, port: this.options.port }, () => {
        server.off('error', reject);
        this.boundPort = (server.address() as net.AddressInfo).port;
        resolve(this.boundPort);
      });
      this.server = server;
    });
    return this.starting;
  }

  /**
   * Closes the listener and every socket (both sides of each connection),
   * clears all timers and completes `connection$`. Resolves once everything
   * has closed. Idempotent.
   *
   * @example
   * ```ts
   * afterEach(() => proxy.stop());
   * ```
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  /**
   * Delays forwarded chunks by `ms`, keeping order, on every connection now
   * and later.
   *
   * @example
   * ```ts
   * proxy.setLatency(100);                              // both ways
   * proxy.setLatency(300, { direction: 'toClient' });   // slow replies
   * ```
   */
  override setLatency(ms: number, options: LatencyOptions = {}): void {
    checkLatency(ms);
    for (const d of directionsOf(options.direction ?? 'both', 'setLatency({ direction })')) this.defaults[d].latencyMs = ms;
    for (const connection of this.live) connection.setLatency(ms, options);
  }

  /**
   * Stops forwarding on every connection now and later, without closing
   * anything (a partition). See {@link BlackholeMode}. New connections are
   * still accepted and connected upstream, then black-holed.
   *
   * @example
   * ```ts
   * proxy.blackhole();
   * ```
   */
  override blackhole(options: BlackholeOptions = {}): void {
    const mode = checkBlackholeMode(options.mode);
    for (const d of directionsOf(options.direction ?? 'both', 'blackhole({ direction })')) this.defaults[d].blackhole = mode;
    for (const connection of this.live) connection.blackhole(options);
  }

  /**
   * Clears latency, black-holes and `refuseNew`, for current and future
   * connections. Held bytes are delivered.
   *
   * @example
   * ```ts
   * proxy.heal();
   * ```
   */
  override heal(): void {
    for (const d of ['toServer', 'toClient'] as const) this.defaults[d] = { latencyMs: 0, blackhole: undefined };
    this.refusing = undefined;
    for (const connection of this.live) connection.heal();
  }

  /**
   * Aborts every open connection with RST both ways. Combine with
   * `refuseNew(true, { reset: true })` to reset future ones too.
   *
   * @example
   * ```ts
   * proxy.reset();
   * ```
   */
  reset(): void {
    for (const connection of this.live) connection.reset();
  }

  /**
   * Closes every open connection with FIN both ways.
   *
   * @example
   * ```ts
   * proxy.drop();
   * ```
   */
  drop(): void {
    for (const connection of this.live) connection.drop();
  }

  /**
   * Sends FIN one way on every open connection; see
   * {@link FaultConnection.halfClose}.
   *
   * @example
   * ```ts
   * proxy.halfClose('toServer'); // the server reads EOF on every connection
   * ```
   */
  halfClose(direction: FaultDirection = 'toServer'): void {
    directionsOf(direction, 'halfClose(direction)');
    for (const connection of this.live) connection.halfClose(direction);
  }

  /**
   * While on, new clients are accepted and immediately closed (FIN, or RST
   * with `reset: true`), never connected upstream nor emitted on
   * `connection$`. Open connections are unaffected.
   *
   * @example
   * ```ts
   * proxy.refuseNew(true);
   * proxy.refuseNew(false);
   * ```
   */
  refuseNew(refuse = true, options: RefuseOptions = {}): void {
    this.refusing = refuse ? { reset: options.reset === true } : undefined;
  }

  private onConnection(client: net.Socket): void {
    if (this.stopping) {
      client.destroy();
      return;
    }
    if (this.refusing) {
      this.refuse(client, this.refusing.reset === true);
      return;
    }
    const connection = new FaultConnection({
      id: this.nextId++,
      client,
      target: this.options.target,
      maxQueuedBytes: this.options.maxQueuedBytes,
      faults: { toServer: { ...this.defaults.toServer }, toClient: { ...this.defaults.toClient } },
      established: (c) => {
        if (!this.stopping) this.accepted.next(c);
      },
      closed: (c) => this.live.delete(c),
    });
    this.live.add(connection);
  }

  private refuse(client: net.Socket, reset: boolean): void {
    // The client is being turned away; its socket errors tell the test nothing.
    client.on('error', () => undefined);
    this.refused.add(client);
    client.once('close', () => this.refused.delete(client));
    if (reset) {
      client.resetAndDestroy();
      return;
    }
    // Read and discard what it sent, so closing sends FIN rather than RST.
    client.resume();
    client.once('finish', () => client.destroy());
    client.end();
  }

  private async shutDown(): Promise<void> {
    // A listen still in flight would otherwise finish after close() and leak the listener.
    // Its failure, if any, has already been reported to whoever called start().
    await this.starting?.then(
      () => undefined,
      () => undefined,
    );
    const server = this.server;
    const closing: Promise<unknown>[] = [];
    if (server?.listening) {
      closing.push(new Promise<void>((resolve) => server.close(() => resolve())));
    }
    for (const connection of this.live) {
      connection.destroy();
      closing.push(connection.closed);
    }
    for (const socket of this.refused) {
      socket.destroy();
      closing.push(new Promise((resolve) => socket.once('close', resolve)));
    }
    this.accepted.complete();
    await Promise.all(closing);
  }
}

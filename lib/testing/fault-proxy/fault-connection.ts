import * as net from 'node:net';
import {
  checkBlackholeMode,
  checkLatency,
  directionsOf,
  type BlackholeOptions,
  type FaultDirection,
  type LatencyOptions,
} from './faults.js';
import { FaultControls } from './fault-controls.js';
import { Pipe, type PipeFaults } from './pipe.js';

/** What a connection needs from the proxy that owns it. @internal */
export interface FaultConnectionInit {
  readonly id: number;
  readonly client: net.Socket;
  readonly target: { readonly host: string; readonly port: number };
  readonly maxQueuedBytes: number;
  readonly faults: Readonly<Record<'toServer' | 'toClient', Readonly<PipeFaults>>>;
  /** The upstream socket connected; called before any byte is forwarded. */
  readonly established: (connection: FaultConnection) => void;
  readonly closed: (connection: FaultConnection) => void;
}

/**
 * One client connection through a `FaultProxy` and its upstream socket
 * to the target. Faults set here affect this connection only, and last until
 * changed, `heal()`ed, or overwritten by the proxy-wide call of the same name.
 *
 * @example
 * ```ts
 * const [holder, waiter] = proxy.connections;
 * holder.blackhole();            // partition one client, leave the other alone
 * await holder.closed;           // resolves once both sockets have closed
 * ```
 */
export class FaultConnection extends FaultControls {
  /** 1, 2, 3… in order of acceptance, per proxy. */
  readonly id: number;
  /** The proxy's end of the client's connection, for inspection (`remotePort` is the client's local port). Do not write to it. */
  readonly clientSocket: net.Socket;
  /** The proxy's connection to the target, for inspection. Do not write to it. */
  readonly serverSocket: net.Socket;
  /** Resolves once both sockets have closed; never rejects. */
  readonly closed: Promise<void>;
  private readonly toServer: Pipe;
  private readonly toClient: Pipe;
  private openSockets = 2;

  /** @internal Created by `FaultProxy` for each accepted client. */
  constructor(init: FaultConnectionInit) {
    super();
    this.id = init.id;
    this.clientSocket = init.client;
    this.serverSocket = net.connect({
      host: init.target.host,
      port: init.target.port,
      allowHalfOpen: true,
      noDelay: true,
    });
    this.clientSocket.setNoDelay(true);
    this.toServer = new Pipe(this.clientSocket, this.serverSocket, init.maxQueuedBytes, init.faults.toServer);
    this.toClient = new Pipe(this.serverSocket, this.clientSocket, init.maxQueuedBytes, init.faults.toClient);
    let resolveClosed!: () => void;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    const watch = (socket: net.Socket, out: Pipe, into: Pipe): void => {
      // The consequence of an error (ECONNRESET, ECONNREFUSED…) is handled on 'close',
      // where it becomes an RST to the other side unless a black-hole holds it back.
      socket.on('error', () => undefined);
      socket.once('close', () => {
        out.sourceClosed();
        into.stop();
        if (--this.openSockets > 0) return;
        init.closed(this);
        resolveClosed();
      });
    };
    watch(this.clientSocket, this.toServer, this.toClient);
    watch(this.serverSocket, this.toClient, this.toServer);
    this.serverSocket.once('connect', () => {
      // A client that left (or was reset) while we were connecting is not news to anyone.
      if (!this.clientSocket.destroyed) init.established(this);
      this.toServer.start();
      this.toClient.start();
    });
  }

  /** Whether either socket is still open. */
  get active(): boolean {
    return this.openSockets > 0;
  }

  /** Bytes delivered to the server so far. */
  get bytesToServer(): number {
    return this.toServer.bytesForwarded;
  }

  /** Bytes delivered to the client so far. */
  get bytesToClient(): number {
    return this.toClient.bytesForwarded;
  }

  /** Bytes discarded, both ways, by `'drop'` black-holes, half-closes, resets and drops. */
  get bytesDropped(): number {
    return this.toServer.bytesDropped + this.toClient.bytesDropped;
  }

  /** Bytes read and not yet delivered (delayed or held), both ways; bounded by `maxQueuedBytes` per direction plus one chunk. */
  get queuedBytes(): number {
    return this.toServer.queuedBytes + this.toClient.queuedBytes;
  }

  /**
   * Delays every chunk forwarded from now on by `ms`, keeping byte order.
   *
   * @example
   * ```ts
   * connection.setLatency(100, { direction: 'toClient' });
   * ```
   */
  override setLatency(ms: number, options: LatencyOptions = {}): void {
    checkLatency(ms);
    for (const d of directionsOf(options.direction ?? 'both', 'setLatency({ direction })')) this.pipe(d).setLatency(ms);
  }

  /**
   * Stops forwarding without closing anything; see `BlackholeMode` for
   * what happens to the bytes. `heal()` lifts it.
   *
   * @example
   * ```ts
   * connection.blackhole();                      // partition, bytes held
   * connection.blackhole({ direction: 'toClient', mode: 'drop' }); // replies vanish
   * ```
   */
  override blackhole(options: BlackholeOptions = {}): void {
    const mode = checkBlackholeMode(options.mode);
    for (const d of directionsOf(options.direction ?? 'both', 'blackhole({ direction })')) this.pipe(d).setBlackhole(mode);
  }

  /**
   * Removes latency and black-holes; held bytes, FINs and RSTs are delivered.
   * A half-close cannot be undone.
   *
   * @example
   * ```ts
   * connection.heal();
   * ```
   */
  override heal(): void {
    this.toServer.heal();
    this.toClient.heal();
  }

  /**
   * Sends FIN one way now (`'toServer'`: the server reads EOF); queued and
   * later bytes in that direction are dropped. The other direction keeps flowing.
   *
   * @example
   * ```ts
   * connection.halfClose('toClient'); // the client reads EOF, its writes still arrive
   * ```
   */
  halfClose(direction: FaultDirection = 'toServer'): void {
    for (const d of directionsOf(direction, 'halfClose(direction)')) this.pipe(d).halfClose();
  }

  /**
   * Aborts both sockets with RST: each peer sees ECONNRESET.
   *
   * @example
   * ```ts
   * connection.reset();
   * ```
   */
  reset(): void {
    this.toServer.stop();
    this.toClient.stop();
    this.clientSocket.resetAndDestroy();
    this.serverSocket.resetAndDestroy();
  }

  /**
   * Closes both sockets with FIN, dropping whatever is queued: each peer
   * reads EOF.
   *
   * @example
   * ```ts
   * connection.drop();
   * ```
   */
  drop(): void {
    this.toServer.stop();
    this.toClient.stop();
    for (const socket of [this.clientSocket, this.serverSocket]) {
      if (socket.destroyed) continue;
      if (socket.writableFinished) {
        socket.destroy();
        continue;
      }
      // Destroy once our FIN is out, so a peer that never closes its side cannot keep the pair alive.
      socket.once('finish', () => socket.destroy());
      if (!socket.writableEnded) socket.end();
    }
  }

  /** @internal Closes both sockets at once; used by `FaultProxy.stop()`. */
  destroy(): void {
    this.toServer.stop();
    this.toClient.stop();
    this.clientSocket.destroy();
    this.serverSocket.destroy();
  }

  private pipe(direction: 'toServer' | 'toClient'): Pipe {
    return direction === 'toServer' ? this.toServer : this.toClient;
  }
}

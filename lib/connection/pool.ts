import { Observable, Subject, Subscription, share, takeUntil, tap, throwIfEmpty } from 'rxjs';
import { ConnectionError, DflockdError } from '../errors.js';
import type { Connection } from './connection.js';
import { ConnectionTiming, OpenConnectionOptions, openConnection } from './open-connection.js';

/** What the pool reports about its connections. */
export type PoolEvent =
  | { readonly type: 'connected'; readonly server: string }
  | { readonly type: 'disconnected'; readonly server: string; readonly error: DflockdError };

/** Settings of one server's pool. */
export interface PoolSettings extends OpenConnectionOptions, ConnectionTiming {
  /** A connection that has sent nothing for this long is closed (no leases) or sent a heartbeat (leases). */
  readonly idleMs: number;
  /** Most shared connections: a cap on the shared set, whichever way a connection joins it. */
  readonly maxShared: number;
  /** Where connection events go. */
  readonly onEvent: (event: PoolEvent) => void;
}

/**
 * A lone shared connection carries this many requests in flight before the pool opens a second
 * (ten workers pipelined on one connection measured the shortest tail)…
 */
const BUSY_ALONE = 16;
/**
 * …and once there are several, each carries this many before the pool opens another: the server
 * answers one connection's requests one after the other, so a deep pipeline puts every request
 * behind the slowest (fifty workers on four connections measured a p99 half again as long).
 */
const BUSY_IN_FLIGHT = 8;

/**
 * The connections to one server.
 *
 * *Shared* connections carry only requests that never block the server's reader (try-lock,
 * enqueue, renew, release, stats), pipelined; leases acquired on them live there. A *dedicated*
 * connection is lent to one acquisition that may block in `w`; given back with {@link adopt},
 * it joins the shared set while that has room (at most `maxShared`). One that comes back
 * holding a lease beyond the cap, or with `share = false`, is *kept*: heartbeats keep it alive
 * while a lease lives on it, and it is closed once the last one leaves. Shared connections idle
 * past `idleMs` are closed before the server's read timeout can drop them — unless a lease lives
 * on them, in which case they send a heartbeat. A broken connection (closed, garbled, or silent
 * past requestTimeoutMs) leaves the pool at once and is never handed out again.
 */
export class ServerPool {
  /** The shared set. */
  private readonly connections: Connection[] = [];
  /** Every connection this pool opened and that is not closed yet (shared, kept or lent). */
  private readonly opened = new Set<Connection>();
  /** Connections holding leases outside the shared set (beyond the cap, or adopted with `share = false`). */
  private readonly kept = new Set<Connection>();
  /** The one attempt to open a shared connection, while it runs. */
  private opening: Observable<Connection> | undefined;
  private openingCount = 0;
  /** Ends attempts still running when the pool closes. */
  private readonly closing$ = new Subject<void>();
  private sweeper: Subscription | undefined;
  private closed = false;

  /** `host:port` of this pool's server (built once: every event and release report names it). */
  readonly server: string;

  constructor(private readonly settings: PoolSettings) {
    this.server = `${settings.host}:${settings.port}`;
  }

  /** Emits a connection for non-blocking requests, then completes. */
  shared(): Observable<Connection> {
    return this.nowOrOpen(() => this.sharedNow(), () => this.openShared());
  }

  /** A shared connection if one is open (opening another in the background when all are busy). */
  sharedNow(): Connection | undefined {
    const best = this.leastBusy();
    const busy = this.connections.length > 1 ? BUSY_IN_FLIGHT : BUSY_ALONE;
    if (best !== undefined && best.inFlight >= busy && this.connections.length + this.openingCount < this.settings.maxShared) {
      this.openShared().subscribe({ error: () => undefined });
    }
    return best;
  }

  /** Emits a connection lent to the caller alone (return it with {@link adopt}), then completes. */
  dedicated(): Observable<Connection> {
    return this.nowOrOpen(() => this.dedicatedNow(), () => this.open());
  }

  /** An idle pooled connection lent to the caller alone (as {@link dedicated}), if there is one. */
  dedicatedNow(): Connection | undefined {
    const connections = this.connections;
    for (let i = 0; i < connections.length; i++) {
      const c = connections[i]!;
      // The cheap checks first: `open` asks the socket.
      if (c.holds === 0 && c.inFlight === 0 && c.open) {
        connections.splice(i, 1);
        return c;
      }
    }
    return undefined;
  }

  /**
   * Takes a lent connection back. With `share` (the default) it joins the shared set if that has
   * room; otherwise, or with `share = false`, a connection holding a lease is kept alive outside
   * the set (never handed out; closed when its last lease leaves) and one holding none is closed.
   * A broken connection, or any after {@link close}, is closed once no lease lives on it.
   */
  adopt(conn: Connection, share = true): void {
    if (!conn.open || this.closed) {
      this.kept.delete(conn);
      if (conn.holds === 0) conn.close();
      return;
    }
    if (this.connections.includes(conn)) return;
    if (share && this.connections.length < this.settings.maxShared) {
      this.kept.delete(conn);
      this.connections.push(conn);
    } else if (conn.holds > 0) {
      this.kept.add(conn);
    } else {
      this.kept.delete(conn);
      conn.close(share ? 'closed: the pool has maxSharedConnections already' : 'closed: no lease lives on it');
      return;
    }
    this.ensureSweeper();
  }

  /** Closes every connection (after flushing writes) and ends attempts still opening. */
  close(): void {
    this.closed = true;
    this.closing$.next();
    this.closing$.complete();
    for (const conn of this.connections.splice(0)) conn.close();
    for (const conn of [...this.kept]) conn.close();
    this.kept.clear();
    this.sweeper?.unsubscribe();
    this.sweeper = undefined;
  }

  /** On subscribe: the connection `now` has at hand, else the one `open` brings; then completes. */
  private nowOrOpen(now: () => Connection | undefined, open: () => Observable<Connection>): Observable<Connection> {
    return new Observable<Connection>((subscriber) => {
      const ready = now();
      if (ready === undefined) return open().subscribe(subscriber);
      subscriber.next(ready);
      subscriber.complete();
      return undefined;
    });
  }

  private leastBusy(): Connection | undefined {
    let best: Connection | undefined;
    for (const conn of this.connections) {
      if (!conn.open) continue;
      if (best === undefined || conn.inFlight < best.inFlight) best = conn;
      if (best.inFlight === 0) break;
    }
    return best;
  }

  /** Opens a connection that joins the shared set; concurrent callers share one attempt. */
  private openShared(): Observable<Connection> {
    if (this.opening !== undefined) return this.opening;
    // Cleared the moment the attempt ends, before its subscribers hear of it: a caller finding
    // the pool busy right after a connection opened must start the next one, not get this one again.
    const clear = (): void => {
      if (this.opening === opening) this.opening = undefined;
    };
    const opening: Observable<Connection> = this.open().pipe(
      takeUntil(this.closing$),
      throwIfEmpty(() => new ConnectionError(`connect to ${this.server} abandoned: the client is closing`, { server: this.server, command: 'connect' })),
      tap({
        next: (conn) => {
          clear();
          this.adopt(conn);
        },
        error: clear,
      }),
      // An attempt outlives the callers that started it (others may come to wait on it); close() ends it.
      share({ resetOnRefCountZero: false }),
    );
    this.opening = opening;
    return opening;
  }

  private open(): Observable<Connection> {
    return new Observable<Connection>((subscriber) => {
      if (this.closed) {
        subscriber.error(this.closedError());
        return undefined;
      }
      this.openingCount++;
      let counted = true;
      const uncount = (): void => {
        if (counted) this.openingCount--;
        counted = false;
      };
      const subscription = openConnection(this.settings).subscribe({
        next: (conn) => {
          uncount();
          this.settings.onEvent({ type: 'connected', server: this.server });
          this.opened.add(conn);
          // One connection told the server is draining tells them all: each then ends as a drain.
          conn.whenDraining((error) => {
            for (const other of this.opened) other.serverDraining(error);
          });
          conn.onClose((error) => {
            // Broken or closed: never handed out again.
            this.opened.delete(conn);
            const index = this.connections.indexOf(conn);
            if (index !== -1) this.connections.splice(index, 1);
            this.kept.delete(conn);
            this.settings.onEvent({ type: 'disconnected', server: this.server, error });
          });
          if (this.closed) {
            conn.close();
            subscriber.error(this.closedError());
            return;
          }
          subscriber.next(conn);
          subscriber.complete();
        },
        error: (error: unknown) => {
          uncount();
          subscriber.error(error);
        },
      });
      return () => {
        uncount();
        subscription.unsubscribe();
      };
    });
  }

  private closedError(): ConnectionError {
    return new ConnectionError(`connection to ${this.server} refused: the client is closed`, { server: this.server, command: 'connect' });
  }

  private ensureSweeper(): void {
    if (this.sweeper !== undefined || this.closed) return;
    const every = Math.max(10, this.settings.idleMs / 4);
    // Re-armed while there is something to sweep; on the client's scheduler, so virtual time drives it too.
    const tick = (): void => {
      this.sweeper = this.sweep() ? this.settings.scheduler.schedule(tick, every) : undefined;
    };
    this.sweeper = this.settings.scheduler.schedule(tick, every);
  }

  /** Closes idle connections and heartbeats idle ones holding leases; false when nothing is left to watch. */
  private sweep(): boolean {
    const now = this.settings.scheduler.now();
    const idleMs = this.settings.idleMs;
    for (const conn of [...this.connections]) {
      if (conn.inFlight > 0) continue;
      // Draining (the server will close it): out of the set once no lease lives on it.
      if (!conn.open) {
        if (conn.holds === 0) this.drop(conn, 'closed: the server is shutting down');
        continue;
      }
      if (now - conn.lastSentAt < idleMs) continue;
      if (conn.holds > 0) conn.heartbeat();
      else this.drop(conn, 'closed after being idle');
    }
    for (const conn of [...this.kept]) {
      if (conn.inFlight > 0) continue;
      if (conn.holds === 0) {
        this.kept.delete(conn);
        conn.close('closed: its last lease left');
      } else if (conn.open && now - conn.lastSentAt >= idleMs) conn.heartbeat();
    }
    return this.connections.length > 0 || this.kept.size > 0;
  }

  private drop(conn: Connection, reason: string): void {
    const index = this.connections.indexOf(conn);
    if (index !== -1) this.connections.splice(index, 1);
    conn.close(reason);
  }
}

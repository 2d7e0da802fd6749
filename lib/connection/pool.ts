import { Observable, from } from 'rxjs';
import { ConnectionError, DflockdError } from '../errors.js';
import { pingRequest } from '../protocol/commands.js';
import type { Connection } from './connection.js';
import { OpenConnectionOptions, openConnection } from './open-connection.js';

/** What the pool reports about its connections. */
export type PoolEvent =
  | { readonly type: 'connected'; readonly server: string }
  | { readonly type: 'disconnected'; readonly server: string; readonly error: DflockdError };

/** Settings of one server's pool. */
export interface PoolSettings extends OpenConnectionOptions {
  /** Monotonic clock in ms. */
  readonly now: () => number;
  /** A connection that has sent nothing for this long is closed (no leases) or pinged (leases). */
  readonly idleMs: number;
  /** Most shared connections opened for non-blocking requests. */
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

/** How long a failed try-lock marks its key as contended, and how many keys are remembered. */
const CONTENDED_MS = 1_000;
const CONTENDED_KEYS = 1_024;

/**
 * The connections to one server.
 *
 * *Shared* connections carry only requests that never block the server's reader (try-lock,
 * enqueue, renew, release, stats), pipelined; leases acquired on them live there. A *dedicated*
 * connection is lent to one acquisition that may block in `w`; once granted it becomes shared.
 * Connections idle past `idleMs` are closed before the server's read timeout can drop them —
 * unless a lease lives on them, in which case they are pinged.
 */
export class ServerPool {
  private readonly connections: Connection[] = [];
  private opening: Promise<Connection> | undefined;
  private openingCount = 0;
  private readonly attempts = new Set<() => void>();
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly contended = new Map<string, number>();

  /** `host:port` of this pool's server (built once: every event and release report names it). */
  readonly server: string;

  constructor(private readonly settings: PoolSettings) {
    this.server = `${settings.host}:${settings.port}`;
  }

  /**
   * Whether the server said `key` was busy within the last second (a try-lock refused, or an
   * enqueue queued): its next acquisition then joins the queue at once, saving the try-lock
   * round trip a busy key would refuse anyway. `now`: the caller's reading of the clock, if it
   * has just taken one.
   */
  isContended(key: string, now = this.settings.now()): boolean {
    const at = this.contended.get(key);
    if (at === undefined) return false;
    if (now - at < CONTENDED_MS) return true;
    this.contended.delete(key);
    return false;
  }

  /** Records the outcome of an acquisition attempt on `key` for {@link isContended}. */
  setContended(key: string, contended: boolean): void {
    if (!contended) {
      this.contended.delete(key);
      return;
    }
    // A key already marked keeps its place (set() updates in place; delete-then-set would leave a
    // hole per call and rehash the map every few calls): the bound evicts the oldest marked first.
    if (this.contended.has(key)) {
      this.contended.set(key, this.settings.now());
      return;
    }
    if (this.contended.size >= CONTENDED_KEYS) this.contended.delete(this.contended.keys().next().value!);
    this.contended.set(key, this.settings.now());
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

  /** Takes a dedicated connection back into the shared set (if it is still usable). */
  adopt(conn: Connection, _share = true): void {
    if (!conn.open || this.closed) {
      if (conn.holds === 0) conn.close();
      return;
    }
    if (conn.holds === 0 && this.connections.length >= this.settings.maxShared) {
      conn.close();
      return;
    }
    if (!this.connections.includes(conn)) this.connections.push(conn);
    this.ensureSweeper();
  }

  /** Closes every connection (after flushing writes). */
  close(): void {
    this.closed = true;
    for (const cancel of [...this.attempts]) cancel();
    this.attempts.clear();
    for (const conn of this.connections.splice(0)) conn.close();
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
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
    if (this.opening === undefined) {
      let resolve!: (conn: Connection) => void;
      let reject!: (error: unknown) => void;
      const opening = new Promise<Connection>((yes, no) => {
        resolve = yes;
        reject = no;
      });
      this.opening = opening;
      // Cleared the moment the attempt ends, not a microtask later: a caller finding the pool busy
      // right after a connection opened must start the next one, not be handed this one again.
      const clear = (): void => {
        if (this.opening === opening) this.opening = undefined;
      };
      const attempt = this.open().subscribe({
        next: (conn) => {
          clear();
          this.adopt(conn);
          resolve(conn);
        },
        error: (error: unknown) => {
          clear();
          reject(error);
        },
      });
      // An attempt outlives the caller that started it (others may wait on it); close() ends it.
      const cancel = (): void => {
        attempt.unsubscribe();
        clear();
        reject(new ConnectionError(`connect to ${this.server} abandoned: the client is closing`, { server: this.server, command: 'connect' }));
      };
      this.attempts.add(cancel);
      attempt.add(() => this.attempts.delete(cancel));
      return from(opening);
    }
    return from(this.opening);
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
          conn.onClose((error) => {
            const index = this.connections.indexOf(conn);
            if (index !== -1) this.connections.splice(index, 1);
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
    if (this.sweeper !== undefined) return;
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, this.settings.idleMs / 4));
    this.sweeper.unref();
  }

  private sweep(): void {
    const now = this.settings.now();
    for (const conn of [...this.connections]) {
      if (!conn.open || now - conn.lastSentAt < this.settings.idleMs) continue;
      if (conn.holds > 0) conn.send(pingRequest(), () => undefined);
      else if (conn.inFlight === 0) {
        this.connections.splice(this.connections.indexOf(conn), 1);
        conn.close('closed after being idle');
      }
    }
    if (this.connections.length === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}

import type { Observable, SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { AcquireTimeoutError, ConnectionError, DflockdError, LeaseExpiredError } from '../errors.js';
import type { ResolvedLockOptions } from '../lock-options.js';
// The key, numbers and tokens of an acquisition are checked once (by the client, the option
// resolver and the reply parser): its requests are built without checking them again.
import { Request, checkedAlready as wire } from '../protocol/commands.js';
import type { Reply } from '../protocol/replies.js';
import type { ContendedKeys } from './contended-keys.js';
import type { LeaseLink, LeaseTarget, LinkCallback } from './lease-link.js';
import type { OwnReleases } from './own-releases.js';
import { LeaseTiming, claimLength } from './lease-machine.js';

/** A lock (or slot) granted on `conn` by a request written at `sentAt`. */
export interface Granted {
  readonly conn: LeaseLink;
  readonly token: string;
  readonly leaseS: number;
  readonly sentAt: number;
}

/** Who an {@link Acquisition} reports to. Exactly one of `granted` / `failed` is called, once. */
export interface AcquisitionOwner {
  /** The server put the acquisition in its FIFO queue (its own word: `queued`, or a try-lock refused and then `queued`). */
  queued(): void;
  /** Held: from now on the lease is the owner's. The owner holds `grant.conn` before it returns. */
  granted(grant: Granted): void;
  /** Not acquired: a timeout (`AcquireTimeoutError`), a refusal, or a connection failure. */
  failed(error: DflockdError): void;
  /** A grant that arrived after {@link Acquisition.cancel} is handed back with `r` on its connection (written now). */
  releasing(key: string, conn: LeaseLink, token: string): void;
}

/**
 * Two-phase acquisition (the facade's enqueue()/wait()): the acquisition enqueues at once on a
 * connection of its own and reports the outcome; while queued it keeps that connection alive, and
 * waits only when the function given to `setWaiter` is called. A grant from the wait is confirmed
 * with a renewal before it is reported, so a stale token (dflockd 1.10.0) is never reported as held.
 */
export interface TwoPhaseControl {
  /** Called once with the enqueue outcome: `'acquired'` only once the lock is held. */
  enqueued(status: 'acquired' | 'queued'): void;
  /** Receives the function that starts the wait (blocking up to `timeoutS` seconds). */
  setWaiter(start: (timeoutS: number) => void): void;
}

/** What the acquisitions of one client share. */
export interface AcquisitionSettings {
  readonly scheduler: SchedulerLike;
  readonly timing: LeaseTiming;
  /** The connection watchdog's bound (ms): a failure later than this after sending is the watchdog's verdict. */
  readonly requestTimeoutMs: number;
  /** Every held lease on a connection of its own (ClientOptions.dedicatedConnections). */
  readonly dedicatedConnections: boolean;
  /** A queued two-phase connection sends a heartbeat this often (ms) while not waiting. */
  readonly queuedHeartbeatMs: number;
}

/** One acquisition to run. */
export interface AcquisitionParams {
  readonly key: string;
  /** Semaphore limit; `undefined` for a lock. */
  readonly limit: number | undefined;
  readonly options: ResolvedLockOptions;
  readonly pool: LeaseTarget;
  /** The keys this server recently said were busy. */
  readonly contended: ContendedKeys;
  /** This client's releases to this server still on their way. */
  readonly ownReleases: OwnReleases;
  readonly twoPhase?: TwoPhaseControl | undefined;
}

/**
 * Acquiring a lock or slot, from the first request to a grant or an error — no lease timing, no
 * renewals (that is the held lease's job).
 *
 * 1. A try-lock (`l key 0`) on a pooled connection, which never blocks the server's reader — skipped
 *    for a key the server called busy within the last second ({@link ContendedKeys}); written on the
 *    connection of this client's own release of the key if that is still on its way ({@link OwnReleases}).
 * 2. If refused, `e` + `w` in one write on a connection of its own, blocked in the queue.
 * 3. A grant whose request was written longer ago than half its lease (a long wait, a slow reply) is
 *    confirmed with a renewal first; if that fails the place is gone and the acquisition queues again.
 *
 * "Nobody answers" is the connection's verdict (its reply watchdog), reported as the connection's
 * `ConnectionError`: only the server's own `timeout` becomes an `AcquireTimeoutError`.
 */
export class Acquisition {
  private readonly key: string;
  private readonly limit: number | undefined;
  private readonly semaphore: boolean;
  private readonly options: ResolvedLockOptions;
  private readonly pool: LeaseTarget;
  private readonly contended: ContendedKeys;
  private readonly ownReleases: OwnReleases;
  private readonly twoPhase: TwoPhaseControl | undefined;
  private readonly startedAt: number;
  /** False once cancelled or ended: replies still on their way are then handed back. */
  private wanted = true;
  /** Connections being opened for this acquisition (rare: a pooled one is usually ready). */
  private opening: Subscription | undefined;
  /** A connection lent to this acquisition alone (e+w, or every try-lock with dedicatedConnections). */
  private lent: LeaseLink | undefined;
  /** Set once the server queued us on `lent`: only closing it takes us out of the queue. */
  private queuedOn: LeaseLink | undefined;
  /** The heartbeat of a queued two-phase connection that is not waiting yet. */
  private heartbeat: Subscription | undefined;

  constructor(
    private readonly owner: AcquisitionOwner,
    private readonly settings: AcquisitionSettings,
    params: AcquisitionParams,
  ) {
    this.key = params.key;
    this.limit = params.limit;
    this.semaphore = params.limit !== undefined;
    this.options = params.options;
    this.pool = params.pool;
    this.contended = params.contended;
    this.ownReleases = params.ownReleases;
    this.twoPhase = params.twoPhase;
    this.startedAt = settings.scheduler.now();
  }

  /** Sends the first request (or opens the connection for it). */
  start(): void {
    if (this.twoPhase !== undefined) {
      this.enqueue();
      return;
    }
    // Our own `r` of this key is on its way: the try-lock follows it on the same connection, so
    // the server reads it after the release (whatever the busy mark says: that may have been us).
    const behind = this.settings.dedicatedConnections ? undefined : this.ownReleases.connectionFor(this.key);
    if (behind !== undefined) this.tryLockOn(behind, true);
    // A key whose try-lock just failed is busy: join its queue without asking again.
    else if (this.options.acquireTimeoutS > 0 && this.contended.has(this.key, this.startedAt)) this.enqueue();
    else this.tryLock(true);
  }

  /**
   * The subscriber left: nothing more is reported; a place in the queue is given up, a late grant
   * handed back. With `abandon` (the client is closing) a lent connection is closed even while its
   * request is unanswered: the server then drops whatever it granted or queued on it.
   */
  cancel(abandon = false): void {
    if (!this.wanted) return;
    this.wanted = false;
    this.opening?.unsubscribe();
    this.stopHeartbeat();
    // Queued on the server: closing the connection is the only way out of the queue. A request
    // still unanswered is left to its reply (a grant is then handed back, a `queued` closes).
    if (abandon) this.lent?.destroy('closed: the client is closing');
    else this.queuedOn?.leaveQueue(this.key, this.semaphore, 'left the queue: the subscriber unsubscribed');
  }

  private fail(error: DflockdError): void {
    if (!this.wanted) return;
    this.wanted = false;
    this.stopHeartbeat();
    this.owner.failed(error);
  }

  /** The grant is the owner's now; a lent connection goes back to the pool, still holding the lease. */
  private deliver(conn: LeaseLink, token: string, leaseS: number, sentAt: number): void {
    const lent = conn === this.lent;
    this.lent = undefined;
    this.queuedOn = undefined;
    this.wanted = false;
    this.owner.granted({ conn, token, leaseS, sentAt });
    if (lent) this.pool.adopt(conn, !this.settings.dedicatedConnections);
    this.twoPhase?.enqueued('acquired');
  }

  /** A grant for a request written at `sentAt`: delivered, confirmed first if it may be old, or handed back. */
  private granted(conn: LeaseLink, token: string, leaseS: number, sentAt: number): void {
    if (!this.wanted) {
      this.handBack(conn, token);
      return;
    }
    const claimMs = claimLength(leaseS * 1000, this.settings.timing);
    if (this.settings.scheduler.now() - sentAt > claimMs / 2) this.confirm(conn, token);
    else this.deliver(conn, token, leaseS, sentAt);
  }

  /** The subscriber left while the grant was on its way: release it at once. */
  private handBack(conn: LeaseLink, token: string): void {
    this.owner.releasing(this.key, conn, token);
    if (conn === this.lent) {
      this.lent = undefined;
      this.pool.adopt(conn);
    }
  }

  // ── 1. the try-lock ────────────────────────────────────────────────────────────────

  private tryLock(retry: boolean): void {
    // The hot path: a pooled connection at hand, no Observable (and no closure) needed to get it.
    const dedicated = this.settings.dedicatedConnections;
    const ready = dedicated ? this.pool.dedicatedNow() : this.pool.sharedNow();
    if (ready !== undefined) this.tryLockOn(ready, retry);
    else this.open(dedicated ? this.pool.dedicated() : this.pool.shared(), (conn) => this.tryLockOn(conn, retry));
  }

  private tryLockOn(conn: LeaseLink, retry: boolean): void {
    const { key, limit, options } = this;
    if (this.settings.dedicatedConnections) this.lent = conn;
    const request: Request = this.semaphore ? wire.semLock(key, 0, limit!, options.leaseTtlS) : wire.lock(key, 0, options.leaseTtlS);
    const sentAt = conn.send(request, (error, reply) => {
      if (reply !== undefined) {
        if (reply.kind === 'granted' || reply.kind === 'acquired') this.granted(conn, reply.token, reply.leaseS, sentAt);
        return;
      }
      if (conn === this.lent) {
        this.lent = undefined;
        this.pool.adopt(conn);
      }
      if (!this.wanted) return;
      if (error!.code === 'timeout') {
        this.contended.mark(key);
        if (options.acquireTimeoutS === 0) this.fail(this.timeoutError('try-lock: the key is held'));
        else this.enqueue();
      } else if (retry && error instanceof ConnectionError && this.closedUnderUs(sentAt)) this.tryLock(false);
      else this.fail(error!);
    });
  }

  /**
   * A pooled connection the server closed just as we wrote to it (its idle timeout, a restart) is
   * worth one more try on a fresh one; a connection the watchdog gave up on is not: nobody answers.
   */
  private closedUnderUs(sentAt: number): boolean {
    return this.settings.scheduler.now() - sentAt < this.settings.requestTimeoutMs;
  }

  // ── 2. the queue ───────────────────────────────────────────────────────────────────

  private enqueue(): void {
    const idle = this.pool.dedicatedNow();
    if (idle !== undefined) this.enqueueOn(idle);
    else this.open(this.pool.dedicated(), (conn) => this.enqueueOn(conn));
  }

  private enqueueOn(conn: LeaseLink): void {
    const { key, limit, options, twoPhase } = this;
    this.lent = conn;
    const request: Request = this.semaphore ? wire.semEnqueue(key, limit!, options.leaseTtlS) : wire.enqueue(key, options.leaseTtlS);
    let sentAt = 0;
    const onEnqueued: LinkCallback = (error, reply) => {
      if (reply?.kind === 'queued') this.wasQueued(conn);
      else if (reply?.kind === 'acquired') {
        this.contended.clear(key);
        this.granted(conn, reply.token, reply.leaseS, sentAt);
      } else if (error !== undefined) {
        this.lent = undefined;
        if (conn.open) this.pool.adopt(conn);
        this.fail(error);
      }
    };
    if (twoPhase !== undefined) {
      sentAt = conn.send(request, onEnqueued);
      return;
    }
    // The wait goes out in the same write as the enqueue: no round trip in between. The server
    // reads it after answering `e`; if `e` was granted (or failed) it answers at once (`ok`, resp.
    // `error_not_enqueued`), and that answer is ignored.
    sentAt = conn.sendPair(request, onEnqueued, wire.wait(key, this.remainingS(), this.semaphore), (error, reply) => {
      if (this.queuedOn === conn) this.waited(conn, error, reply, sentAt);
    });
  }

  private wasQueued(conn: LeaseLink): void {
    // Proof the key is busy: the next acquisition of it skips the try-lock as well.
    this.contended.mark(this.key);
    if (!this.wanted) {
      this.lent = undefined;
      conn.leaveQueue(this.key, this.semaphore, 'left the queue: the subscriber unsubscribed');
      return;
    }
    this.queuedOn = conn;
    this.owner.queued();
    const twoPhase = this.twoPhase;
    if (twoPhase === undefined) return;
    // Not waiting yet: the server would drop a silent connection, and our place with it.
    this.startHeartbeat(conn);
    twoPhase.setWaiter((timeoutS) => {
      if (!this.wanted || this.queuedOn !== conn) return;
      this.stopHeartbeat();
      const sentAt = conn.send(wire.wait(this.key, timeoutS, this.semaphore), (error, reply) => this.waited(conn, error, reply, sentAt));
    });
    twoPhase.enqueued('queued');
  }

  /** The answer to a wait sent at `sentAt`: the grant, or the end of this acquisition. */
  private waited(conn: LeaseLink, error: DflockdError | undefined, reply: Reply | undefined, sentAt: number): void {
    if (reply !== undefined) {
      if (reply.kind !== 'granted' && reply.kind !== 'acquired') return;
      // In two-phase mode the grant may have happened long before this wait: always confirm it.
      if (this.twoPhase !== undefined && this.wanted) this.confirm(conn, reply.token);
      else this.granted(conn, reply.token, reply.leaseS, sentAt);
      return;
    }
    this.lent = undefined;
    this.queuedOn = undefined;
    // A wait timeout dequeues us and leaves the connection clean; other failures leave it unknown.
    if (error!.code === 'timeout' && conn.open) this.pool.adopt(conn);
    else conn.leaveQueue(this.key, this.semaphore, 'left in an unknown state by a failed wait');
    this.fail(error!.code === 'timeout' ? this.timeoutError('waited in the queue') : error!);
  }

  private remainingS(): number {
    return Math.max(0, this.options.acquireTimeoutS - Math.floor((this.settings.scheduler.now() - this.startedAt) / 1000));
  }

  // ── 3. confirming a grant of unknown age ───────────────────────────────────────────

  /**
   * Checks a grant of unknown age with a renewal before reporting it held. If it already expired
   * (dflockd 1.10.0 even returns such stale tokens), the place is gone: queue again while the
   * acquire timeout allows (two-phase callers are told instead).
   */
  private confirm(conn: LeaseLink, token: string): void {
    const { key } = this;
    const sentAt = conn.send(wire.renew(key, token, this.options.leaseTtlS, this.semaphore), (error, reply) => {
      if (reply?.kind === 'renewed') {
        this.granted(conn, token, reply.leaseS, sentAt);
        return;
      }
      if (conn === this.lent) {
        this.lent = undefined;
        this.queuedOn = undefined;
        if (conn.open) this.pool.adopt(conn);
      }
      if (!this.wanted) return;
      if (this.twoPhase !== undefined) {
        const command = this.semaphore ? 'sw' : 'w';
        this.fail(
          new LeaseExpiredError(`key "${key}": the grant made while not waiting had already expired (stale token); call enqueue() again`, { key, command, server: this.pool.server, cause: error }),
        );
      } else if (this.remainingS() > 0) this.enqueue();
      else this.fail(this.timeoutError('the grant expired before its reply arrived'));
    });
  }

  // ── helpers ────────────────────────────────────────────────────────────────────────

  /** Runs `use` with the connection `source` opens (or abandons it if the acquisition ended meanwhile). */
  private open(source: Observable<LeaseLink>, use: (conn: LeaseLink) => void): void {
    const opening = source.subscribe({
      next: (conn) => {
        if (this.wanted) use(conn);
        else this.pool.adopt(conn);
      },
      error: (error: DflockdError) => this.fail(error),
    });
    if (!opening.closed) this.opening = opening;
  }

  private startHeartbeat(conn: LeaseLink): void {
    const every = this.settings.queuedHeartbeatMs;
    this.heartbeat = this.settings.scheduler.schedule(function (this: SchedulerAction<unknown>) {
      conn.heartbeat();
      this.schedule(undefined, every);
    }, every);
  }

  private stopHeartbeat(): void {
    this.heartbeat?.unsubscribe();
    this.heartbeat = undefined;
  }

  private timeoutError(detail: string): AcquireTimeoutError {
    const { key, semaphore, pool } = this;
    return new AcquireTimeoutError(
      `key "${key}" (${semaphore ? `semaphore, limit ${this.limit}` : 'lock'} on ${pool.server}): not acquired within acquireTimeoutS=${this.options.acquireTimeoutS} (${detail}); raise acquireTimeoutS or shorten the holders' critical sections`,
      { key, command: semaphore ? 'sw' : 'w', server: pool.server },
    );
  }
}

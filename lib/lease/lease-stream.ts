import { Subscriber, Subscription, Unsubscribable } from 'rxjs';
import type { Connection, ConnectionHolder } from '../connection/connection.js';
import type { ServerPool } from '../connection/pool.js';
import { AcquireTimeoutError, ConnectionError, DflockdError, LeaseExpiredError } from '../errors.js';
// The key, numbers and tokens of an acquisition are checked once (by the client, the option
// resolver and the reply parser): its requests are built without checking them again.
import { Request, checkedAlready as wire, pingRequest } from '../protocol/commands.js';
import type { Reply } from '../protocol/replies.js';
import type { ResolvedLockOptions } from '../options.js';

/** A monotonic clock in ms (the client's scheduler). */
type Clock = { now(): number };
import type { LockEvent, LostReason } from './events.js';
import type { RenewScheduler, ScheduledCall } from './renew-scheduler.js';
import { swapRemove } from '../swap-remove.js';
import { ACQUIRING, LeaseEffect, LeaseInput, LeaseState, LeaseTiming, RELEASED as RELEASED_STATE, claimLength, leaseStep } from './lease-machine.js';

/** What the lease driver reports besides the lock events (see {@link LeaseContext.emitted}): release outcomes and teardown failures. */
export type LeaseReport =
  | { readonly type: 'released'; readonly key: string; readonly token: string; readonly server: string; readonly ok: boolean; readonly error?: DflockdError }
  /** A release was written; a `released` report follows once it is answered (or its connection is gone). */
  | { readonly type: 'release-sent' }
  /** Unsubscribing failed unexpectedly (a bug): reported, never thrown. */
  | { readonly type: 'teardown-failed'; readonly key: string; readonly server: string; readonly error: DflockdError };

/** What all acquisitions of one client share: built once per client, not per acquisition. */
export interface LeaseContext {
  readonly clock: Clock;
  /** Longest time between a lease's renewals (ms), whatever its length. */
  readonly heartbeatMs: number;
  /** The server's read timeout (ms): no claim outlasts it. */
  readonly idleTimeoutMs: number;
  /** The client's batched timer for renewals. */
  readonly scheduler: RenewScheduler;
  /** Bound on connecting (ms), added to the acquire timeout for the local safety timer. */
  readonly connectTimeoutMs: number;
  /** Every event also given to the subscriber, with the server it came from (the client's `events$`). */
  readonly emitted: (event: LockEvent, server: string) => void;
  readonly report: (report: LeaseReport) => void;
  /** Where the acquisition is listed while it runs, so that closing the client can end it. */
  readonly registry?: LeaseRegistry | undefined;
}

/** One acquisition: what to acquire, where, and how. */
export interface LeaseParams {
  readonly key: string;
  /** Semaphore limit; `undefined` for a lock. */
  readonly limit: number | undefined;
  readonly options: ResolvedLockOptions;
  readonly pool: ServerPool;
  /** Two-phase mode (the facade's enqueue()/wait()): see {@link TwoPhaseControl}. */
  readonly twoPhase?: TwoPhaseControl | undefined;
  /** Told how the release ended (true when the server confirmed it); the facade's `release()` result. */
  readonly released?: ((ok: boolean, error?: DflockdError) => void) | undefined;
}

/**
 * The running acquisitions of a client: each joins at start and leaves when it ends; closing the
 * client ends those still there. Members keep their place, so leaving is a swap, not a search or
 * a rehash (acquisitions come and go many times a millisecond on a busy key).
 */
export class LeaseRegistry {
  private readonly leases: RunningLease[] = [];

  add(lease: RunningLease): void {
    lease.registryIndex = this.leases.length;
    this.leases.push(lease);
  }

  delete(lease: RunningLease): void {
    const i = lease.registryIndex;
    if (this.leases[i] !== lease) return;
    const moved = swapRemove(this.leases, i);
    if (moved !== undefined) moved.registryIndex = i;
  }

  /** The running acquisitions now (a copy: ending one changes the registry). */
  snapshot(): RunningLease[] {
    return this.leases.slice();
  }
}

/** What closing the client may do to a running acquisition. */
export interface RunningLease {
  /** Ends it visibly: `lost` for a held lease (after releasing it), an error while acquiring. */
  shutdown(): void;
  /** Its place in the {@link LeaseRegistry}, kept by the registry. */
  registryIndex: number;
}

/**
 * Two-phase acquisition: the stream enqueues at once on a connection of its own and reports
 * the outcome; while queued it keeps that connection alive with pings, and waits only when
 * `startWait` is called. A grant from the wait is confirmed with a renewal before `acquired`
 * is emitted, so a stale token (dflockd 1.10.0) is never reported as held.
 */
export interface TwoPhaseControl {
  /** Called once with the enqueue outcome. */
  enqueued(status: 'acquired' | 'queued'): void;
  /** Receives the function that starts the wait (blocking up to `timeoutS` seconds). */
  setWaiter(start: (timeoutS: number) => void): void;
}

const RELEASE_SENT: LeaseReport = Object.freeze({ type: 'release-sent' });
/** Inputs without fields, shared. */
const RELEASE: LeaseInput = Object.freeze({ type: 'release' });
const QUEUED: LeaseInput = Object.freeze({ type: 'queued' });

/** A queued two-phase connection pings after this share of the server's idle timeout. */
const QUEUED_PING_SHARE = 0.4;

/** Extra time the local acquire timer allows beyond the server-side timeout, for the reply to travel. */
const ACQUIRE_GRACE_MS = 1_000;

/**
 * One acquisition, run for `subscriber` (the body of the cold Observable behind `client.lock()`
 * and `client.semaphore()`): acquires at once, keeps the lease renewed, emits `lost` no later
 * than the local deadline, and — through the teardown it returns — releases on unsubscribe in
 * whatever phase it is. The client calls it from its own Observable, so events pass through one
 * subscriber.
 */
export function runLease(subscriber: Subscriber<LockEvent>, context: LeaseContext, params: LeaseParams): Unsubscribable {
  const lease = new Lease(subscriber, context, params);
  lease.start();
  return lease;
}

/**
 * The state of one acquisition and the steps that drive it. One object per acquisition with its
 * steps as methods: an acquisition allocates this, its requests and its events, not a closure
 * per step (the hot path of a contended hand-off runs through here several times per lock).
 */
class Lease implements RunningLease, ConnectionHolder, Unsubscribable {
  private readonly key: string;
  private readonly limit: number | undefined;
  private readonly semaphore: boolean;
  private readonly options: ResolvedLockOptions;
  private readonly pool: ServerPool;
  private readonly twoPhase: TwoPhaseControl | undefined;
  private readonly clock: Clock;
  private readonly timing: LeaseTiming;
  private readonly startedAt: number;
  private state: LeaseState = ACQUIRING;
  /** The connection the lease lives on once granted: renewals and the release go there. */
  private owner: Connection | undefined;
  /** The exact deadline timer (while a renewal is in flight). */
  private timer: NodeJS.Timeout | undefined;
  /** Cancels the renewal batched on the client's timer wheel. */
  private renewal: ScheduledCall | undefined;
  /** The local safety timer while acquiring, on the client's timer wheel (no timer of its own). */
  private acquireTimer: ScheduledCall | undefined;
  /** Keeps a two-phase connection alive while queued and not yet waiting. */
  private pinger: NodeJS.Timeout | undefined;
  /** False once the subscriber has left (or the acquisition failed). */
  private wanted = true;
  /** Connections being opened for this acquisition (rare: a pooled one is usually ready). */
  private steps: Subscription | undefined;
  /** A connection of our own while enqueued or waiting; handed to the pool once granted. */
  private dedicated: Connection | undefined;
  /** Bumped by every step that does something; lets a step notice a nested one. */
  private generation = 0;
  /** Kept by the client's registry and by the connection the lease lives on. */
  registryIndex = -1;
  holderIndex = -1;

  constructor(
    private readonly subscriber: Subscriber<LockEvent>,
    private readonly context: LeaseContext,
    private readonly params: LeaseParams,
  ) {
    this.key = params.key;
    this.limit = params.limit;
    this.semaphore = params.limit !== undefined;
    this.options = params.options;
    this.pool = params.pool;
    this.twoPhase = params.twoPhase;
    this.clock = context.clock;
    this.timing = { renewRatio: params.options.renewRatio, heartbeatMs: context.heartbeatMs, idleTimeoutMs: context.idleTimeoutMs, jitter: Math.random };
    this.startedAt = context.clock.now();
  }

  start(): void {
    this.context.registry?.add(this);
    if (this.twoPhase) {
      // Bounds the enqueue itself; the wait arms its own timer when it starts.
      this.armAcquireTimer(0);
      this.enqueue();
      return;
    }
    // A key whose try-lock just failed is busy: join its queue without asking again.
    if (this.options.acquireTimeoutS > 0 && this.pool.isContended(this.key, this.startedAt)) this.enqueue();
    else this.tryLock(true);
    // Armed once the request is on its way (no reply can come in between); not for a start that failed.
    if (this.state.phase === 'acquiring') this.armAcquireTimer(this.options.acquireTimeoutS, this.startedAt);
  }

  /** The teardown: releases in whatever phase the acquisition is. Never throws. */
  unsubscribe(): void {
    try {
      this.wanted = false;
      if (this.state.phase === 'queued' && this.dedicated !== undefined) {
        // Blocked in `w`: only closing the connection takes us out of the queue.
        this.dedicated.destroy('left the queue: the subscriber unsubscribed');
        this.dedicated = undefined;
      }
      // A held lease's `r` leaves first, before any bookkeeping.
      this.dispatch(RELEASE);
      if (this.state.phase === 'released') this.disown();
      this.clearAcquireTimer();
      this.stopPinging();
      this.steps?.unsubscribe();
    } catch (error) {
      // Teardown never throws: whatever went wrong is reported as a failed release.
      this.context.report({
        type: 'teardown-failed',
        key: this.key,
        server: this.pool.server,
        error: error instanceof DflockdError ? error : new DflockdError('TEARDOWN', String(error)),
      });
    } finally {
      this.context.registry?.delete(this);
    }
  }

  shutdown(): void {
    const error = new ConnectionError(`key "${this.key}": the client was closed`, { key: this.key, server: this.pool.server, command: 'close' });
    if (this.state.phase === 'held' || this.state.phase === 'renewing') this.dispatch({ type: 'shutdown', error });
    else {
      this.dedicated?.destroy('closed: the client is closing');
      this.fail(error);
    }
  }

  private fail(error: DflockdError): void {
    if (!this.wanted || (this.state.phase !== 'acquiring' && this.state.phase !== 'queued')) return;
    this.state = RELEASED_STATE;
    this.clearAcquireTimer();
    this.stopPinging();
    this.subscriber.error(error);
  }

  private clearAcquireTimer(): void {
    if (this.acquireTimer === undefined) return;
    this.acquireTimer.cancel();
    this.acquireTimer = undefined;
  }

  private armAcquireTimer(timeoutS: number, now = this.clock.now()): void {
    this.clearAcquireTimer();
    this.acquireTimer = this.context.scheduler.schedule(now + this.context.connectTimeoutMs + timeoutS * 1000 + ACQUIRE_GRACE_MS, () => {
      this.acquireTimer = undefined;
      // Fail first: destroying the connection would otherwise fail the wait with a ConnectionError.
      const stalled = this.dedicated;
      this.fail(this.timeoutError('no reply from the server'));
      stalled?.destroy('gave up: the acquire timeout passed with no reply');
    });
  }

  private stopPinging(): void {
    if (this.pinger === undefined) return;
    clearInterval(this.pinger);
    this.pinger = undefined;
  }

  private timeoutError(detail: string): AcquireTimeoutError {
    const { key, semaphore, pool } = this;
    return new AcquireTimeoutError(
      `key "${key}" (${semaphore ? `semaphore, limit ${this.limit}` : 'lock'} on ${pool.server}): not acquired within acquireTimeoutS=${this.options.acquireTimeoutS} (${detail}); raise acquireTimeoutS or shorten the holders' critical sections`,
      { key, command: semaphore ? 'sw' : 'w', server: pool.server },
    );
  }

  private dispatch(input: LeaseInput): void {
    const step = leaseStep(this.key, this.state, input, this.timing);
    this.state = step.state;
    const effects = step.effects;
    if (effects.length === 0) return;
    const mine = ++this.generation;
    for (let i = 0; i < effects.length; i++) {
      // A subscriber that unsubscribes from inside `next` (take(1), firstValueFrom, …) runs a
      // nested release step; what is left of this step is stale: its renewal would follow the
      // `r` and its timer would outlive the stream, holding the whole acquisition until it fires.
      if (this.generation !== mine) return;
      this.run(effects[i]!);
    }
  }

  private run(effect: LeaseEffect): void {
    switch (effect.type) {
      case 'emit':
        // The subscriber first: a grant reaches the code waiting for it before any monitor of events$.
        if (this.wanted) this.subscriber.next(effect.event);
        this.context.emitted(effect.event, this.pool.server);
        return;
      case 'schedule':
        this.cancelTimers();
        // Only a live lease has anything to wake up for.
        if (this.state.phase !== 'held' && this.state.phase !== 'renewing') return;
        if (this.state.phase === 'held') {
          // A renewal: batched with the other leases due in the same slot.
          this.renewal = this.context.scheduler.schedule(effect.at, () => {
            this.renewal = undefined;
            this.dispatch({ type: 'tick', now: this.clock.now() });
          });
        } else {
          // A deadline: exact, `lost` must never come late.
          this.timer = setTimeout(() => this.dispatch({ type: 'tick', now: this.clock.now() }), Math.max(0, effect.at - this.clock.now()));
          this.timer.unref();
        }
        return;
      case 'cancel-timer':
        this.cancelTimers();
        return;
      case 'send-renew':
        this.owner!.send(wire.renew(this.key, effect.token, effect.leaseS, this.semaphore), (error, reply) => {
          if (error) this.dispatch({ type: 'renew-failed', reason: reasonOf(error), error });
          else if (reply?.kind === 'renewed') this.dispatch({ type: 'renew-ok', leaseS: reply.leaseS, now: this.clock.now() });
        });
        return;
      case 'send-release':
        this.release(this.owner!, effect.token);
        return;
      case 'close-connection':
        this.owner?.destroy(`gave no renewal reply for key "${this.key}" before the lease deadline`);
        return;
      case 'complete':
        this.disown();
        if (this.wanted) this.subscriber.complete();
        return;
    }
  }

  /** Neither the renewal nor the deadline timer is pending any more. */
  private cancelTimers(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.renewal?.cancel();
    this.renewal = undefined;
  }

  /** The lease now lives on `conn`: its renewals go there, and its loss loses the lease. */
  private own(conn: Connection): void {
    this.owner = conn;
    conn.hold(this);
  }

  /** From the connection the lease lives on. */
  connectionClosed(error: DflockdError): void {
    if (this.state.phase === 'held' || this.state.phase === 'renewing') this.dispatch({ type: 'disconnected', reason: reasonOf(error), error });
  }

  private disown(): void {
    this.owner?.unhold(this);
  }

  private release(conn: Connection, token: string, afterwards?: () => void): void {
    const { key, pool, context, params } = this;
    context.report(RELEASE_SENT);
    const lone = conn.inFlight === 0;
    conn.send(
      wire.release(key, token, this.semaphore),
      (error) => {
        context.report(error === undefined ? { type: 'released', key, token, server: pool.server, ok: true } : { type: 'released', key, token, server: pool.server, ok: false, error });
        params.released?.(error === undefined, error);
        afterwards?.();
      },
      lone,
    );
  }

  /**
   * A grant arrived for a request sent at `sentAt`; the lease started no earlier. If most of that
   * lease may already be gone (a long wait in the queue, a delayed reply), it is confirmed with a
   * renewal first, so `acquired` is never emitted for a lock that may have passed to someone else.
   */
  private granted(conn: Connection, reply: Reply, sentAt: number): void {
    if (reply.kind !== 'granted' && reply.kind !== 'acquired') return;
    if (!this.wanted) {
      // The subscriber left while the grant was on its way: hand the lock straight back.
      this.release(conn, reply.token, () => this.pool.adopt(conn));
      return;
    }
    const claimMs = claimLength(reply.leaseS * 1000, this.timing);
    const now = this.clock.now();
    if (now - sentAt > claimMs / 2) {
      this.confirm(conn, reply.token);
      return;
    }
    this.own(conn);
    if (conn === this.dedicated) {
      this.dedicated = undefined;
      this.pool.adopt(conn);
    }
    this.dispatch({ type: 'granted', token: reply.token, leaseS: reply.leaseS, sentAt, now });
    // After `acquired`: the subscriber's critical section waits for nothing it does not need.
    this.clearAcquireTimer();
  }

  /** Step 1: a try-lock on a shared connection; never blocks the server's reader. */
  private tryLock(retry: boolean): void {
    // The hot path: a pooled connection is ready, no Observable needed to get it.
    const ready = this.pool.sharedNow();
    if (ready !== undefined) this.tryLockOn(ready, retry);
    else this.addStep(this.pool.shared().subscribe({ next: (conn) => this.tryLockOn(conn, retry), error: (error: DflockdError) => this.fail(error) }));
  }

  private tryLockOn(conn: Connection, retry: boolean): void {
    const { key, limit, options } = this;
    const request: Request = this.semaphore ? wire.semLock(key, 0, limit!, options.leaseTtlS) : wire.lock(key, 0, options.leaseTtlS);
    const lone = conn.inFlight === 0;
    const sentAt = conn.send(
      request,
      (error, reply) => {
        if (reply) this.granted(conn, reply, sentAt);
        else if (!this.wanted) return;
        else if (error!.code === 'timeout') {
          this.pool.setContended(key, true);
          if (options.acquireTimeoutS === 0) this.fail(this.timeoutError('try-lock: the key is held'));
          else this.enqueue();
        } else if (error instanceof ConnectionError && retry) this.tryLock(false);
        else this.fail(error!);
      },
      lone,
    );
  }

  private addStep(step: Subscription): void {
    (this.steps ??= new Subscription()).add(step);
  }

  /** Step 2: join the FIFO queue on a connection of our own, then wait there. */
  private enqueue(): void {
    // The hot path: an idle pooled connection, no Observable needed to get it.
    const idle = this.pool.dedicatedNow();
    if (idle !== undefined) this.enqueueOn(idle);
    else this.addStep(this.pool.dedicated().subscribe({ next: (conn) => this.enqueueOn(conn), error: (error: DflockdError) => this.fail(error) }));
  }

  private enqueueOn(conn: Connection): void {
    const { key, limit, options, pool, context, twoPhase } = this;
    const request: Request = this.semaphore ? wire.semEnqueue(key, limit!, options.leaseTtlS) : wire.enqueue(key, options.leaseTtlS);
    this.dedicated = conn;
    if (!this.wanted) {
      pool.adopt(conn);
      return;
    }
    let queued = false;
    // A lent connection is idle: the enqueue and its wait leave at once, in one write.
    const lone = conn.inFlight === 0;
    let sentAt = 0;
    const onEnqueued = (error: DflockdError | undefined, reply: Reply | undefined): void => {
      if (error) {
        if (conn.open) pool.adopt(conn);
        this.fail(error);
      } else if (reply!.kind === 'queued') {
        queued = true;
        // Proof the key is busy: the next acquisition of it skips the try-lock as well.
        pool.setContended(key, true);
        if (!this.wanted) conn.destroy('left the queue: the subscriber unsubscribed');
        else if (twoPhase) {
          this.dispatch(QUEUED);
          // Not waiting yet: the server would drop a silent connection, and our place with it.
          this.pinger = setInterval(() => conn.send(pingRequest(), () => undefined), context.idleTimeoutMs * QUEUED_PING_SHARE);
          this.pinger.unref();
          this.clearAcquireTimer();
          twoPhase.setWaiter((timeoutS) => {
            this.stopPinging();
            this.armAcquireTimer(timeoutS);
            this.wait(conn, timeoutS, conn.inFlight === 0);
          });
          twoPhase.enqueued('queued');
        } else {
          this.dispatch(QUEUED);
        }
      } else {
        pool.setContended(key, false);
        this.granted(conn, reply!, sentAt);
        twoPhase?.enqueued('acquired');
      }
    };
    if (twoPhase) {
      sentAt = conn.send(request, onEnqueued);
      return;
    }
    // The wait goes out in the same write as the enqueue: no round trip in between. The
    // server reads it after answering `e`; if `e` was granted (or failed) it answers at
    // once (`ok`, resp. `error_not_enqueued`), and that answer is ignored.
    const wait = wire.wait(key, this.remainingS(), this.semaphore);
    sentAt = conn.sendPair(
      request,
      onEnqueued,
      wait,
      (error, reply) => {
        if (queued) this.waited(conn, error, reply, sentAt);
      },
      lone,
    );
  }

  private remainingS(): number {
    return Math.max(0, this.options.acquireTimeoutS - Math.floor((this.clock.now() - this.startedAt) / 1000));
  }

  /** The two-phase wait, started by the facade's wait(). */
  private wait(conn: Connection, timeoutS: number, now: boolean): void {
    const sentAt = conn.send(wire.wait(this.key, timeoutS, this.semaphore), (error, reply) => this.waited(conn, error, reply, sentAt), now);
  }

  /** The answer to a wait sent at `sentAt`: the grant, or the end of this acquisition. */
  private waited(conn: Connection, error: DflockdError | undefined, reply: Reply | undefined, sentAt: number): void {
    if (reply) {
      // In two-phase mode the grant may have happened long before this wait: always confirm it.
      if (this.twoPhase && reply.kind === 'granted') this.confirm(conn, reply.token);
      else this.granted(conn, reply, sentAt);
    } else {
      this.dedicated = undefined;
      // A wait timeout dequeues us and leaves the connection clean; other failures leave it unknown.
      if (error!.code === 'timeout' && conn.open) this.pool.adopt(conn);
      else conn.destroy('left in an unknown state by a failed wait');
      this.fail(error!.code === 'timeout' ? this.timeoutError('waited in the queue') : error!);
    }
  }

  /**
   * Checks a grant of unknown age with a renewal before reporting it held. If it already expired
   * (dflockd 1.10.0 even returns such stale tokens), the place is gone: queue again while the
   * acquire timeout allows (two-phase callers are told instead).
   */
  private confirm(conn: Connection, token: string): void {
    const { key, pool } = this;
    const lone = conn.inFlight === 0;
    const sentAt = conn.send(
      wire.renew(key, token, this.options.leaseTtlS, this.semaphore),
      (error, reply) => {
        if (reply?.kind === 'renewed') {
          this.granted(conn, { kind: 'granted', token, leaseS: reply.leaseS }, sentAt);
          return;
        }
        this.dedicated = undefined;
        if (conn.open) pool.adopt(conn);
        if (!this.wanted) return;
        if (this.twoPhase) {
          this.fail(
            new LeaseExpiredError(`key "${key}": the grant made while not waiting had already expired (stale token); call enqueue() again`, {
              key,
              command: this.semaphore ? 'sw' : 'w',
              server: pool.server,
              cause: error,
            }),
          );
        } else if (this.remainingS() > 0) this.enqueue();
        else this.fail(this.timeoutError('the grant expired before its reply arrived'));
      },
      lone,
    );
  }
}

function reasonOf(error: DflockdError): LostReason {
  if (error.code === 'error_draining') return 'server-shutdown';
  if (error instanceof ConnectionError || error.code === 'PROTOCOL_ERROR') return 'disconnected';
  return 'expired';
}

import { Subscriber, Subscription } from 'rxjs';
import type { Connection } from '../connection/connection.js';
import type { ServerPool } from '../connection/pool.js';
import { AcquireTimeoutError, ConnectionError, DflockdError, LeaseExpiredError } from '../errors.js';
import {
  Request,
  enqueueRequest,
  lockRequest,
  pingRequest,
  releaseRequest,
  renewRequest,
  semEnqueueRequest,
  semLockRequest,
  waitRequest,
} from '../protocol/commands.js';
import type { Reply } from '../protocol/replies.js';
import type { Clock, ResolvedLockOptions } from '../options.js';
import type { LockEvent, LostReason } from './events.js';
import type { RenewScheduler } from './renew-scheduler.js';
import { LeaseEffect, LeaseInput, LeaseState, LeaseTiming, claimLength, leaseStep } from './lease-machine.js';

/** What the lease driver reports besides the lock events: release outcomes and teardown failures. */
export type LeaseReport =
  | { readonly type: 'event'; readonly event: LockEvent; readonly server: string }
  | { readonly type: 'released'; readonly key: string; readonly token: string; readonly server: string; readonly ok: boolean; readonly error?: DflockdError }
  /** A release was written; a `released` report follows once it is answered (or its connection is gone). */
  | { readonly type: 'release-sent' }
  /** Unsubscribing failed unexpectedly (a bug): reported, never thrown. */
  | { readonly type: 'teardown-failed'; readonly key: string; readonly server: string; readonly error: DflockdError };

/** Everything one acquisition needs. */
export interface LeaseParams {
  readonly key: string;
  /** Semaphore limit; `undefined` for a lock. */
  readonly limit: number | undefined;
  readonly options: ResolvedLockOptions;
  readonly pool: ServerPool;
  readonly clock: Clock;
  /** Longest time between a lease's renewals (ms), whatever its length. */
  readonly heartbeatMs: number;
  /** The server's read timeout (ms): no claim outlasts it. */
  readonly idleTimeoutMs: number;
  /** The client's batched timer for renewals. */
  readonly scheduler: RenewScheduler;
  /** Bound on connecting (ms), added to the acquire timeout for the local safety timer. */
  readonly connectTimeoutMs: number;
  readonly report: (report: LeaseReport) => void;
  /** Receives the function that ends this acquisition when the client closes. */
  readonly onShutdown?: ((shutdown: () => void) => void) | undefined;
  /** Two-phase mode (the facade's enqueue()/wait()): see {@link TwoPhaseControl}. */
  readonly twoPhase?: TwoPhaseControl | undefined;
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
export function runLease(subscriber: Subscriber<LockEvent>, params: LeaseParams): () => void {
  const { key, limit, options, pool, clock } = params;
  const semaphore = limit !== undefined;
  const timing: LeaseTiming = { renewRatio: options.renewRatio, heartbeatMs: params.heartbeatMs, idleTimeoutMs: params.idleTimeoutMs, jitter: Math.random };
  let state: LeaseState = { phase: 'acquiring' };
  let owner: Connection | undefined;
  let untrackOwner: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let unschedule: (() => void) | undefined;
  let wanted = true;
  const steps = new Subscription();
  const startedAt = clock.now();

  const fail = (error: DflockdError): void => {
    if (!wanted || state.phase !== 'acquiring' && state.phase !== 'queued') return;
    state = { phase: 'released' };
    clearAcquireTimer();
    stopPinging();
    subscriber.error(error);
  };

  // The local safety timer rides the client's timer wheel: no timer of its own per acquisition.
  let cancelAcquireTimer: (() => void) | undefined;
  const clearAcquireTimer = (): void => {
    cancelAcquireTimer?.();
    cancelAcquireTimer = undefined;
  };
  const armAcquireTimer = (timeoutS: number): void => {
    clearAcquireTimer();
    cancelAcquireTimer = params.scheduler.schedule(clock.now() + params.connectTimeoutMs + timeoutS * 1000 + ACQUIRE_GRACE_MS, () => {
      cancelAcquireTimer = undefined;
      // Fail first: destroying the connection would otherwise fail the wait with a ConnectionError.
      const stalled = dedicated;
      fail(timeoutError('no reply from the server'));
      stalled?.destroy('gave up: the acquire timeout passed with no reply');
    });
  };
  let pinger: NodeJS.Timeout | undefined;
  const stopPinging = (): void => {
    clearInterval(pinger);
    pinger = undefined;
  };

  const timeoutError = (detail: string): AcquireTimeoutError =>
    new AcquireTimeoutError(
      `key "${key}" (${semaphore ? `semaphore, limit ${limit}` : 'lock'} on ${pool.server}): not acquired within acquireTimeoutS=${options.acquireTimeoutS} (${detail}); raise acquireTimeoutS or shorten the holders' critical sections`,
      { key, command: semaphore ? 'sw' : 'w', server: pool.server },
    );

  // Bumped by every step that does something; lets a step notice a nested one.
  let generation = 0;
  const dispatch = (input: LeaseInput): void => {
    const step = leaseStep(key, state, input, timing);
    state = step.state;
    if (step.effects.length === 0) return;
    const mine = ++generation;
    for (const effect of step.effects) {
      // A subscriber that unsubscribes from inside `next` (take(1), firstValueFrom, …) runs a
      // nested release step; what is left of this step is stale: its renewal would follow the
      // `r` and its timer would outlive the stream, holding the whole closure until it fires.
      if (generation !== mine) return;
      run(effect);
    }
  };

  const run = (effect: LeaseEffect): void => {
    switch (effect.type) {
      case 'emit':
        // The subscriber first: a grant reaches the code waiting for it before any monitor of events$.
        if (wanted) subscriber.next(effect.event);
        params.report({ type: 'event', event: effect.event, server: pool.server });
        return;
      case 'schedule':
        clearTimeout(timer);
        // Only a live lease has anything to wake up for.
        if (state.phase !== 'held' && state.phase !== 'renewing') return;
        unschedule?.();
        unschedule = undefined;
        if (state.phase === 'held') {
          // A renewal: batched with the other leases due in the same slot.
          unschedule = params.scheduler.schedule(effect.at, () => {
            unschedule = undefined;
            dispatch({ type: 'tick', now: clock.now() });
          });
        } else {
          // A deadline: exact, `lost` must never come late.
          timer = setTimeout(() => dispatch({ type: 'tick', now: clock.now() }), Math.max(0, effect.at - clock.now()));
          timer.unref();
        }
        return;
      case 'cancel-timer':
        clearTimeout(timer);
        timer = undefined;
        unschedule?.();
        unschedule = undefined;
        return;
      case 'send-renew':
        owner!.send(renewRequest(key, effect.token, effect.leaseS, semaphore), (error, reply) => {
          if (error) dispatch({ type: 'renew-failed', reason: reasonOf(error), error });
          else if (reply?.kind === 'renewed') dispatch({ type: 'renew-ok', leaseS: reply.leaseS, now: clock.now() });
        });
        return;
      case 'send-release':
        release(owner!, effect.token);
        return;
      case 'close-connection':
        owner?.destroy(`gave no renewal reply for key "${key}" before the lease deadline`);
        return;
      case 'complete':
        disown();
        if (wanted) subscriber.complete();
        return;
    }
  };

  /** The lease now lives on `conn`: its renewals go there, and its loss loses the lease. */
  const own = (conn: Connection): void => {
    owner = conn;
    conn.holds++;
    untrackOwner = conn.onClose((error) => {
      if (state.phase === 'held' || state.phase === 'renewing') dispatch({ type: 'disconnected', reason: reasonOf(error), error });
    });
  };
  const disown = (): void => {
    untrackOwner?.();
    untrackOwner = undefined;
    if (owner !== undefined) owner.holds--;
  };

  const release = (conn: Connection, token: string, afterwards?: () => void): void => {
    params.report({ type: 'release-sent' });
    const lone = conn.inFlight === 0;
    conn.send(releaseRequest(key, token, semaphore), (error) => {
      params.report(error === undefined ? { type: 'released', key, token, server: pool.server, ok: true } : { type: 'released', key, token, server: pool.server, ok: false, error });
      afterwards?.();
    }, lone);
  };

  /**
   * A grant arrived for a request sent at `sentAt`; the lease started no earlier. If most of that
   * lease may already be gone (a long wait in the queue, a delayed reply), it is confirmed with a
   * renewal first, so `acquired` is never emitted for a lock that may have passed to someone else.
   */
  const granted = (conn: Connection, reply: Reply, sentAt: number): void => {
    if (reply.kind !== 'granted' && reply.kind !== 'acquired') return;
    if (!wanted) {
      // The subscriber left while the grant was on its way: hand the lock straight back.
      release(conn, reply.token, () => pool.adopt(conn));
      return;
    }
    const claimMs = claimLength(reply.leaseS * 1000, timing);
    if (clock.now() - sentAt > claimMs / 2) {
      confirm(conn, reply.token);
      return;
    }
    clearAcquireTimer();
    own(conn);
    if (conn === dedicated) {
      dedicated = undefined;
      pool.adopt(conn);
    }
    dispatch({ type: 'granted', token: reply.token, leaseS: reply.leaseS, sentAt, now: clock.now() });
  };

  let dedicated: Connection | undefined;

  /** Step 1: a try-lock on a shared connection; never blocks the server's reader. */
  const tryLock = (retry: boolean): void => {
    const request: Request = semaphore ? semLockRequest(key, 0, limit, options.leaseTtlS) : lockRequest(key, 0, options.leaseTtlS);
    const attempt = (conn: Connection): void => {
      const lone = conn.inFlight === 0;
      const sentAt = conn.send(request, (error, reply) => {
        if (reply) granted(conn, reply, sentAt);
        else if (!wanted) return;
        else if (error!.code === 'timeout') {
          pool.setContended(key, true);
          if (options.acquireTimeoutS === 0) fail(timeoutError('try-lock: the key is held'));
          else enqueue();
        } else if (error instanceof ConnectionError && retry) tryLock(false);
        else fail(error!);
      }, lone);
    };
    // The hot path: a pooled connection is ready, no Observable needed to get it.
    const ready = pool.sharedNow();
    if (ready !== undefined) attempt(ready);
    else steps.add(pool.shared().subscribe({ next: attempt, error: (error: DflockdError) => fail(error) }));
  };

  /** Step 2: join the FIFO queue on a connection of our own, then wait there. */
  const enqueue = (): void => {
    // The hot path: an idle pooled connection, no Observable needed to get it.
    const idle = pool.dedicatedNow();
    if (idle !== undefined) enqueueOn(idle);
    else steps.add(pool.dedicated().subscribe({ next: enqueueOn, error: (error: DflockdError) => fail(error) }));
  };

  const enqueueOn = (conn: Connection): void => {
    const request: Request = semaphore ? semEnqueueRequest(key, limit, options.leaseTtlS) : enqueueRequest(key, options.leaseTtlS);
    dedicated = conn;
    if (!wanted) {
      pool.adopt(conn);
      return;
    }
    let queued = false;
    // A lent connection is idle: the enqueue and its wait leave at once, in one write.
    const lone = conn.inFlight === 0;
    const sentAt = conn.send(request, (error, reply) => {
      if (error) {
        if (conn.open) pool.adopt(conn);
        fail(error);
      } else if (reply!.kind === 'queued') {
        queued = true;
        // Proof the key is busy: the next acquisition of it skips the try-lock as well.
        pool.setContended(key, true);
        if (!wanted) conn.destroy('left the queue: the subscriber unsubscribed');
        else if (params.twoPhase) {
          dispatch({ type: 'queued' });
          // Not waiting yet: the server would drop a silent connection, and our place with it.
          pinger = setInterval(() => conn.send(pingRequest(), () => undefined), params.idleTimeoutMs * QUEUED_PING_SHARE);
          pinger.unref();
          clearAcquireTimer();
          params.twoPhase.setWaiter((timeoutS) => {
            stopPinging();
            armAcquireTimer(timeoutS);
            wait(conn, timeoutS, conn.inFlight === 0);
          });
          params.twoPhase.enqueued('queued');
        } else {
          dispatch({ type: 'queued' });
        }
      } else {
        pool.setContended(key, false);
        granted(conn, reply!, sentAt);
        params.twoPhase?.enqueued('acquired');
      }
    });
    // The wait goes out in the same write as the enqueue: no round trip in between. The
    // server reads it after answering `e`; if `e` was granted (or failed) it answers at
    // once (`ok`, resp. `error_not_enqueued`), and that answer is ignored.
    if (!params.twoPhase) wait(conn, remainingS(), lone, () => queued);
  };

  const remainingS = (): number => Math.max(0, options.acquireTimeoutS - Math.floor((clock.now() - startedAt) / 1000));

  const wait = (conn: Connection, timeoutS: number, now: boolean, relevant: () => boolean = () => true): void => {
    const sentAt = conn.send(waitRequest(key, timeoutS, semaphore), (error, reply) => {
      if (!relevant()) return;
      if (reply) {
        // In two-phase mode the grant may have happened long before this wait: always confirm it.
        if (params.twoPhase && reply.kind === 'granted') confirm(conn, reply.token);
        else granted(conn, reply, sentAt);
      } else {
        dedicated = undefined;
        // A wait timeout dequeues us and leaves the connection clean; other failures leave it unknown.
        if (error!.code === 'timeout' && conn.open) pool.adopt(conn);
        else conn.destroy('left in an unknown state by a failed wait');
        fail(error!.code === 'timeout' ? timeoutError('waited in the queue') : error!);
      }
    }, now);
  };

  /**
   * Checks a grant of unknown age with a renewal before reporting it held. If it already expired
   * (dflockd 1.10.0 even returns such stale tokens), the place is gone: queue again while the
   * acquire timeout allows (two-phase callers are told instead).
   */
  const confirm = (conn: Connection, token: string): void => {
    const lone = conn.inFlight === 0;
    const sentAt = conn.send(renewRequest(key, token, options.leaseTtlS, semaphore), (error, reply) => {
      if (reply?.kind === 'renewed') {
        granted(conn, { kind: 'granted', token, leaseS: reply.leaseS }, sentAt);
        return;
      }
      dedicated = undefined;
      if (conn.open) pool.adopt(conn);
      if (!wanted) return;
      if (params.twoPhase) {
        fail(new LeaseExpiredError(`key "${key}": the grant made while not waiting had already expired (stale token); call enqueue() again`, { key, command: semaphore ? 'sw' : 'w', server: pool.server, cause: error }));
      } else if (remainingS() > 0) enqueue();
      else fail(timeoutError('the grant expired before its reply arrived'));
    }, lone);
  };

  params.onShutdown?.(() => {
    const error = new ConnectionError(`key "${key}": the client was closed`, { key, server: pool.server, command: 'close' });
    if (state.phase === 'held' || state.phase === 'renewing') dispatch({ type: 'shutdown', error });
    else {
      dedicated?.destroy('closed: the client is closing');
      fail(error);
    }
  });

  if (params.twoPhase) {
    // Bounds the enqueue itself; the wait arms its own timer when it starts.
    armAcquireTimer(0);
    enqueue();
  } else {
    armAcquireTimer(options.acquireTimeoutS);
    // A key whose try-lock just failed is busy: join its queue without asking again.
    if (options.acquireTimeoutS > 0 && pool.isContended(key)) enqueue();
    else tryLock(true);
  }

  return () => {
    try {
      wanted = false;
      clearAcquireTimer();
      stopPinging();
      steps.unsubscribe();
      if (state.phase === 'queued' && dedicated !== undefined) {
        // Blocked in `w`: only closing the connection takes us out of the queue.
        dedicated?.destroy('left the queue: the subscriber unsubscribed');
        dedicated = undefined;
      }
      dispatch({ type: 'release' });
      if (state.phase === 'released') disown();
    } catch (error) {
      // Teardown never throws: whatever went wrong is reported as a failed release.
      params.report({ type: 'teardown-failed', key, server: pool.server, error: error instanceof DflockdError ? error : new DflockdError('TEARDOWN', String(error)) });
    }
  };
}

function reasonOf(error: DflockdError): LostReason {
  if (error.code === 'error_draining') return 'server-shutdown';
  if (error instanceof ConnectionError || error.code === 'PROTOCOL_ERROR') return 'disconnected';
  return 'expired';
}

import type { Subscriber, Unsubscribable } from 'rxjs';
import { ConnectionError, DflockdError } from '../errors.js';
import { checkedAlready as wire } from '../protocol/commands.js';
import { Acquisition, AcquisitionOwner, AcquisitionParams, AcquisitionSettings, Granted } from './acquisition.js';
import type { LeaseLink } from './lease-link.js';
import type { LockEvent } from './events.js';
import { HeldLease, HeldLeaseOwner, HeldLeaseSettings } from './held-lease.js';
import type { LeaseTiming } from './lease-machine.js';
import { swapRemove } from '../swap-remove.js';

export type { TwoPhaseControl } from './acquisition.js';

/** What the lease driver reports besides the lock events (see {@link LeaseContext.emitted}): release outcomes and teardown failures. */
export type LeaseReport =
  | { readonly type: 'released'; readonly key: string; readonly token: string; readonly server: string; readonly ok: boolean; readonly error?: DflockdError }
  /** A release was written; a `released` report follows once it is answered (or its connection is gone). */
  | { readonly type: 'release-sent' }
  /** Unsubscribing failed unexpectedly (a bug): reported, never thrown. */
  | { readonly type: 'teardown-failed'; readonly key: string; readonly server: string; readonly error: DflockdError };

/** What all acquisitions of one client share: built once per client, not per acquisition. */
export interface LeaseContext {
  readonly acquisition: AcquisitionSettings;
  readonly held: HeldLeaseSettings;
  /** Every event also given to the subscriber, with the server it came from (the client's `events$`). */
  readonly emitted: (event: LockEvent, server: string) => void;
  readonly report: (report: LeaseReport) => void;
  /** A random number in [0, 1) per renewal, bringing it up to 20% early (see `LeaseTiming.jitter`). @default Math.random */
  readonly jitter?: () => number;
  /** Where the acquisition is listed while it runs, so that closing the client can end it. */
  readonly registry?: LeaseRegistry | undefined;
}

/** One acquisition: what to acquire, where, and how (an {@link AcquisitionParams}), and who hears its releases. */
export interface LeaseParams extends AcquisitionParams {
  /** Told the outcome of every release this lease writes (the facade's `release()` result). */
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
 * One acquisition, run for `subscriber` (the body of the cold Observable behind `client.lock()`
 * and `client.semaphore()`): an {@link Acquisition} until it is granted, then a {@link HeldLease}
 * until it is released or lost. The teardown it returns releases in whatever phase it is.
 */
export function runLease(subscriber: Subscriber<LockEvent>, context: LeaseContext, params: LeaseParams): Unsubscribable {
  const lease = new LeaseRun(subscriber, context, params);
  lease.start();
  return lease;
}

/** The two phases of one subscription, composed; the only place that talks to its subscriber. */
class LeaseRun implements AcquisitionOwner, HeldLeaseOwner, RunningLease, Unsubscribable {
  private readonly acquisition: Acquisition;
  private held: HeldLease | undefined;
  /** False once the subscriber has left. */
  private wanted = true;
  registryIndex = -1;

  constructor(
    private readonly subscriber: Subscriber<LockEvent>,
    private readonly context: LeaseContext,
    private readonly params: LeaseParams,
  ) {
    this.acquisition = new Acquisition(this, context.acquisition, params);
  }

  start(): void {
    this.context.registry?.add(this);
    this.acquisition.start();
  }

  /** The teardown: releases in whatever phase the acquisition is. Never throws. */
  unsubscribe(): void {
    try {
      this.wanted = false;
      if (this.held !== undefined) this.held.release();
      else this.acquisition.cancel();
    } catch (error) {
      // Teardown never throws: whatever went wrong is reported as a failed release.
      this.context.report({
        type: 'teardown-failed',
        key: this.params.key,
        server: this.params.pool.server,
        error: error instanceof DflockdError ? error : new DflockdError('TEARDOWN', String(error)),
      });
    } finally {
      this.context.registry?.delete(this);
    }
  }

  shutdown(): void {
    const { key, pool } = this.params;
    const error = new ConnectionError(`key "${key}": the client was closed`, { key, server: pool.server, command: 'close' });
    if (this.held !== undefined) {
      this.held.shutdown(error);
      return;
    }
    this.acquisition.cancel(true);
    this.failed(error);
  }

  // ── from the acquisition ───────────────────────────────────────────────────────────

  queued(): void {
    this.emit({ type: 'queued', key: this.params.key });
  }

  granted(grant: Granted): void {
    const { key, limit, options } = this.params;
    if (!grant.conn.open) {
      this.failed(new ConnectionError(`key "${key}": the connection to ${grant.conn.server} closed as the grant arrived (the server releases it)`, { key, server: grant.conn.server }));
      return;
    }
    // The client's timing, with this lock's renew ratio.
    const { heartbeatMs, idleTimeoutMs } = this.context.acquisition.timing;
    const timing: LeaseTiming = { renewRatio: options.renewRatio, heartbeatMs, idleTimeoutMs, jitter: this.context.jitter ?? Math.random };
    this.held = new HeldLease(this, this.context.held, key, limit !== undefined, timing, grant);
    this.held.start();
  }

  failed(error: DflockdError): void {
    this.context.registry?.delete(this);
    if (this.wanted) this.subscriber.error(error);
  }

  // ── from the held lease (and for a grant handed back) ──────────────────────────────

  emit(event: LockEvent): void {
    // The subscriber first: a grant reaches the code waiting for it before any monitor of events$.
    if (this.wanted) this.subscriber.next(event);
    this.context.emitted(event, this.params.pool.server);
  }

  complete(): void {
    this.context.registry?.delete(this);
    if (this.wanted) this.subscriber.complete();
  }

  releasing(key: string, conn: LeaseLink, token: string): void {
    const { pool, released, limit, ownReleases } = this.params;
    const report = this.context.report;
    report({ type: 'release-sent' });
    ownReleases.add(key, conn);
    conn.send(wire.release(key, token, limit !== undefined), (error) => {
      ownReleases.delete(key, conn);
      report(error === undefined ? { type: 'released', key, token, server: pool.server, ok: true } : { type: 'released', key, token, server: pool.server, ok: false, error });
      released?.(error === undefined, error);
      // A connection of its own goes back to the pool for the next acquisition once its `r` is answered.
      if (this.context.acquisition.dedicatedConnections && conn.open && conn.holds === 0) pool.adopt(conn);
    });
  }
}

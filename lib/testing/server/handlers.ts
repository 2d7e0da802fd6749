/**
 * What each command does to the lock state and what it answers, including the
 * blocking ones (`l`/`sl`/`w`/`sw`), which park the connection until a grant,
 * their timeout, or a server shutdown.
 *
 * @module
 */

import type { AcquireRequest, EnqueueRequest, Request, WaitRequest } from './request-parser.js';
import type { Enqueued, ResourceTable } from './resource-table.js';
import { renderStats } from './stats.js';
import { after, type Cancelable } from './timers.js';
import type { Waiter } from './waiter-queue.js';

/** The side of a connection the handlers need. */
export interface RequestOrigin {
  /** Connection id (from 1, per accepted connection). */
  readonly id: number;
  /** Delivers the reply of a request that blocked; the connection then reads on. */
  resume(reply: string): void;
  /**
   * Told when a request blocks, with the handle that ends it early (its reply,
   * `error`, then comes through `resume`): an HTTP long poll whose client left
   * or whose session was deleted gives its place up this way.
   */
  onBlocked?(pending: Cancelable): void;
}

const OK = 'ok\n';
const ERROR = 'error\n';
const TIMEOUT = 'timeout\n';
const QUEUED = 'queued\n';

type EndReason = 'timeout' | 'cancel';

/** Executes parsed requests against a {@link ResourceTable}. */
export class CommandHandlers {
  private shuttingDown = false;
  private readonly blocked = new Set<Cancelable>();

  constructor(
    private readonly table: ResourceTable,
    /** Whole seconds of the default lease, shown when a lease truncates to 0 s. */
    private readonly defaultLeaseSec: number,
    private readonly connectionCount: () => number,
  ) {}

  /** Number of requests currently blocked in `l`/`sl`/`w`/`sw`. */
  get blockedCount(): number {
    return this.blocked.size;
  }

  /**
   * Runs one request. Returns the reply line, or `null` when the request
   * blocked: its reply arrives later through `origin.resume()`.
   */
  handle(origin: RequestOrigin, req: Request): string | null {
    switch (req.cmd) {
      case 'stats':
        return `ok ${renderStats(this.table, this.connectionCount())}\n`;
      case 'l':
      case 'sl':
        return this.acquire(origin, req);
      case 'r':
      case 'sr':
        return this.table.release(req.key, req.token) ? OK : ERROR;
      case 'n':
      case 'sn':
        // The reply is the new lease length, not the time that was left.
        return this.table.renew(req.key, req.token, req.leaseMs) ? `ok ${req.leaseSec}\n` : ERROR;
      case 'e':
      case 'se':
        return this.enqueue(origin.id, req);
      case 'w':
      case 'sw':
        return this.wait(origin, req);
      default:
        // `auth` after the handshake, or with no token configured: not a request dflockd serves.
        return ERROR;
    }
  }

  /**
   * Graceful-shutdown semantics: every blocked request answers `error` now, and
   * any later request that would block answers `error` at once.
   */
  beginShutdown(): void {
    this.shuttingDown = true;
    for (const pending of [...this.blocked]) pending.cancel();
  }

  private acquire(origin: RequestOrigin, req: AcquireRequest): string | null {
    const res = this.table.open(req.key, req.limit, req.limitText);
    if (typeof res === 'string') return res + '\n';
    this.table.touchAndEvict(res);
    const token = this.table.tryGrant(res, origin.id, req.leaseMs);
    if (token !== null) return this.grant('ok', token, req.leaseSec);
    if (this.table.queueFull(res)) return 'error_max_waiters\n'; // even for a try-lock
    if (req.timeoutMs <= 0) return TIMEOUT; // try-lock: queued and given up in the same instant
    if (this.shuttingDown) return ERROR;
    const waiter = this.table.addWaiter(res, origin.id, req.leaseMs);
    this.block(origin, waiter, req.timeoutMs, (granted) => {
      res.lastActivity = this.table.clock();
      return this.grant('ok', granted, req.leaseSec);
    }, (reason) => {
      this.table.removeWaiter(res, waiter);
      return reason === 'timeout' ? TIMEOUT : ERROR;
    });
    return null;
  }

  private enqueue(connId: number, req: EnqueueRequest): string {
    if (this.table.enqueued(connId, req.key)) return 'error_already_enqueued\n';
    const res = this.table.open(req.key, req.limit, req.limitText);
    if (typeof res === 'string') return res + '\n';
    this.table.touchAndEvict(res);
    const base = { resource: res, leaseMs: req.leaseMs, leaseSec: req.leaseSec };
    const token = this.table.tryGrant(res, connId, req.leaseMs);
    if (token !== null) {
      // The lease already runs; the entry keeps the token until w, r or expiry.
      this.table.setEnqueued(connId, req.key, { ...base, token, waiter: null });
      return this.grant('acquired', token, req.leaseSec);
    }
    if (this.table.queueFull(res)) return 'error_max_waiters\n';
    const waiter = this.table.addWaiter(res, connId, req.leaseMs);
    this.table.setEnqueued(connId, req.key, { ...base, token: null, waiter });
    return QUEUED;
  }

  private wait(origin: RequestOrigin, req: WaitRequest): string | null {
    const entry = this.table.enqueued(origin.id, req.key);
    if (!entry) return 'error_not_enqueued\n';
    if (entry.token !== null) return this.waitAfterAcquired(origin.id, req.key, entry, entry.token);
    const waiter = entry.waiter!;
    if (waiter.token !== null) return this.collect(origin.id, req.key, entry, waiter.token);
    const giveUp = (reason: EndReason): string => {
      // Losing the place in the queue is the documented cost of a w timeout.
      this.table.deleteEnqueued(origin.id, req.key);
      this.table.removeWaiter(entry.resource, waiter);
      return reason === 'timeout' ? TIMEOUT : ERROR;
    };
    if (req.timeoutMs <= 0) return giveUp('timeout');
    if (this.shuttingDown) return giveUp('cancel');
    this.block(origin, waiter, req.timeoutMs, (granted) => this.collect(origin.id, req.key, entry, granted), giveUp);
    return null;
  }

  // `w` after `e` answered `acquired`: the lease restarts if it is still running.
  private waitAfterAcquired(connId: number, key: string, entry: Enqueued, token: string): string {
    this.table.deleteEnqueued(connId, key);
    const holder = this.table.resources.get(key)?.holders.get(token);
    if (!holder) return 'error_lease_expired\n';
    const now = this.table.clock();
    if (now >= holder.expiresAt) {
      this.table.evictHolder(holder);
      return 'error_lease_expired\n';
    }
    holder.expiresAt = now + entry.leaseMs;
    holder.resource.lastActivity = now;
    return this.grant('ok', token, entry.leaseSec);
  }

  // A queued entry was granted: hand the token over with a fresh lease, unless
  // the grant's lease was already swept. dflockd v1.10.0 returned that stale
  // token; v1.10.1 answers error_lease_expired, which is what we do.
  private collect(connId: number, key: string, entry: Enqueued, token: string): string {
    this.table.deleteEnqueued(connId, key);
    const holder = this.table.resources.get(key)?.holders.get(token);
    if (!holder) return 'error_lease_expired\n';
    const now = this.table.clock();
    holder.expiresAt = now + entry.leaseMs;
    holder.resource.lastActivity = now;
    return this.grant('ok', token, entry.leaseSec);
  }

  private block(
    origin: RequestOrigin,
    waiter: Waiter,
    timeoutMs: number,
    onGrant: (token: string) => string,
    onEnd: (reason: EndReason) => string,
  ): void {
    const finish = (reply: string): void => {
      this.blocked.delete(pending);
      origin.resume(reply);
    };
    const timer = after(timeoutMs, () => finish(onEnd('timeout')));
    const pending: Cancelable = {
      cancel: () => {
        timer.cancel();
        finish(onEnd('cancel'));
      },
    };
    waiter.onGrant = (token) => {
      timer.cancel();
      finish(onGrant(token));
    };
    this.blocked.add(pending);
    origin.onBlocked?.(pending);
  }

  // dflockd's FormatResponse shows the default lease when the lease truncates to 0 s.
  private grant(status: 'ok' | 'acquired', token: string, leaseSec: number): string {
    return `${status} ${token} ${leaseSec === 0 ? this.defaultLeaseSec : leaseSec}\n`;
  }
}

/**
 * The lock manager state of dflockd v1.10: one key space shared by locks
 * (limit 1) and semaphores, each key with its holders (token → lease), its FIFO
 * of waiters, the two-phase enqueue entries per (connection, key), and which
 * connection owns which slot for auto-release.
 *
 * Pure state: no sockets and no timers; the caller passes time in via `clock`.
 *
 * @module
 */

import type { TokenSource } from './tokens.js';
import { Waiter, WaiterQueue } from './waiter-queue.js';

/** One held slot. */
export interface Holder {
  readonly token: string;
  /** The connection whose disconnect releases it (the acquirer, not a later renewer). */
  readonly connId: number;
  /** Monotonic ms at which the lease ends. */
  expiresAt: number;
  readonly resource: Resource;
}

/** A key: a lock when `limit` is 1, a semaphore otherwise. */
export class Resource {
  readonly holders = new Map<string, Holder>();
  readonly waiters = new WaiterQueue();

  constructor(
    readonly key: string,
    readonly limit: number,
    /** Exact decimal limit (the creator's), compared on every later request. */
    readonly limitText: string,
    public lastActivity: number,
  ) {}
}

/** A two-phase entry: `token` when `e` acquired at once, `waiter` when it queued. */
export interface Enqueued {
  readonly resource: Resource;
  readonly token: string | null;
  readonly waiter: Waiter | null;
  readonly leaseMs: number;
  readonly leaseSec: number;
}

/** Limits the table enforces. */
export interface TableLimits {
  readonly maxLocks: number;
  readonly maxWaiters: number;
  readonly gcMaxIdleMs: number;
}

/** Lock manager state with dflockd's grant, eviction and cleanup rules. */
export class ResourceTable {
  /** Every key, including idle ones not yet collected (they count toward maxLocks). */
  readonly resources = new Map<string, Resource>();
  private readonly owned = new Map<number, Set<Holder>>();
  private readonly enqueuedByConn = new Map<number, Map<string, Enqueued>>();

  constructor(
    private readonly limits: TableLimits,
    private readonly tokens: TokenSource,
    readonly clock: () => number,
  ) {}

  /** Finds or creates `key`; refuses a different limit or a key beyond maxLocks. */
  open(key: string, limit: number, limitText: string): Resource | 'error_limit_mismatch' | 'error_max_locks' {
    const existing = this.resources.get(key);
    if (existing) return existing.limitText === limitText ? existing : 'error_limit_mismatch';
    if (this.resources.size >= this.limits.maxLocks) return 'error_max_locks';
    const created = new Resource(key, limit, limitText, this.clock());
    this.resources.set(key, created);
    return created;
  }

  /** Marks activity and evicts expired holders, as every acquire and enqueue does first. */
  touchAndEvict(res: Resource): void {
    const now = this.clock();
    res.lastActivity = now;
    this.evictExpired(res, now);
  }

  /** The fast path: a free slot and nobody queued. Returns the new token, or null. */
  tryGrant(res: Resource, connId: number, leaseMs: number): string | null {
    if (res.holders.size >= res.limit || res.waiters.size > 0) return null;
    return this.addHolder(res, connId, leaseMs, this.clock()).token;
  }

  /** Whether `--max-waiters` refuses one more waiter on this key. */
  queueFull(res: Resource): boolean {
    return this.limits.maxWaiters > 0 && res.waiters.size >= this.limits.maxWaiters;
  }

  /** Appends a waiter to the key's FIFO. */
  addWaiter(res: Resource, connId: number, leaseMs: number): Waiter {
    const w = new Waiter(connId, leaseMs);
    res.waiters.push(w);
    return w;
  }

  /** Takes a waiter out of the FIFO (timeout, cancel) and marks activity. */
  removeWaiter(res: Resource, w: Waiter): void {
    w.onGrant = null;
    res.waiters.remove(w);
    res.lastActivity = this.clock();
  }

  /** `r`/`sr`: by key and token only, from any connection, regardless of lease expiry. */
  release(key: string, token: string): boolean {
    const res = this.resources.get(key);
    if (!res) return false;
    res.lastActivity = this.clock();
    const holder = res.holders.get(token);
    if (!holder) return false;
    this.dropHolder(holder);
    this.grantNext(res);
    return true;
  }

  /** `n`/`sn`: resets the lease to now + leaseMs; an already-expired lease is evicted instead. */
  renew(key: string, token: string, leaseMs: number): boolean {
    const res = this.resources.get(key);
    if (!res) return false;
    const now = this.clock();
    res.lastActivity = now;
    const holder = res.holders.get(token);
    if (!holder) return false;
    if (now >= holder.expiresAt) {
      this.dropHolder(holder);
      this.grantNext(res);
      return false;
    }
    holder.expiresAt = now + leaseMs;
    return true;
  }

  /** The two-phase entry of (connection, key), if any. */
  enqueued(connId: number, key: string): Enqueued | undefined {
    return this.enqueuedByConn.get(connId)?.get(key);
  }

  /** Records a two-phase entry for (connection, key). */
  setEnqueued(connId: number, key: string, entry: Enqueued): void {
    let byKey = this.enqueuedByConn.get(connId);
    if (!byKey) this.enqueuedByConn.set(connId, (byKey = new Map()));
    byKey.set(key, entry);
  }

  /** Forgets the two-phase entry of (connection, key). */
  deleteEnqueued(connId: number, key: string): void {
    const byKey = this.enqueuedByConn.get(connId);
    if (byKey?.delete(key) && byKey.size === 0) this.enqueuedByConn.delete(connId);
  }

  /** Removes a holder (lease over or given up) and hands its slot to the FIFO. */
  evictHolder(holder: Holder): void {
    this.dropHolder(holder);
    holder.resource.lastActivity = this.clock();
    this.grantNext(holder.resource);
  }

  /** The lease-expiry sweep: evicts every expired holder and grants the freed slots. */
  sweep(): void {
    const now = this.clock();
    for (const res of this.resources.values()) {
      if (res.holders.size > 0) this.evictExpired(res, now);
    }
  }

  /** The idle-key GC: forgets keys idle longer than gcMaxIdle with no holders and no waiters. */
  collectGarbage(): void {
    const now = this.clock();
    for (const [key, res] of this.resources) {
      if (res.holders.size === 0 && res.waiters.size === 0 && now - res.lastActivity > this.limits.gcMaxIdleMs) {
        this.resources.delete(key);
      }
    }
  }

  /**
   * Auto-release on disconnect: drops the connection's two-phase entries and
   * their queued waiters, then releases every slot it acquired and grants them on.
   */
  cleanupConnection(connId: number): void {
    this.dropEnqueued(connId);
    const holders = this.owned.get(connId);
    if (!holders) return;
    this.owned.delete(connId);
    const touched = new Set<Resource>();
    for (const holder of holders) {
      holder.resource.holders.delete(holder.token);
      touched.add(holder.resource);
    }
    const now = this.clock();
    for (const res of touched) {
      res.lastActivity = now;
      this.grantNext(res);
    }
  }

  /**
   * Drops an owner's two-phase entries and their queued waiters, keeping what
   * it holds (an HTTP session that ends with auto-release off).
   */
  dropEnqueued(connId: number): void {
    const entries = this.enqueuedByConn.get(connId);
    if (!entries) return;
    this.enqueuedByConn.delete(connId);
    for (const entry of entries.values()) {
      // Not removeWaiter: a disconnect is not activity on the key (idle_s keeps counting).
      if (entry.waiter) {
        entry.waiter.onGrant = null;
        entry.resource.waiters.remove(entry.waiter);
      }
    }
  }

  private evictExpired(res: Resource, now: number): void {
    let evicted = false;
    for (const holder of res.holders.values()) {
      if (now >= holder.expiresAt) {
        this.dropHolder(holder);
        evicted = true;
      }
    }
    if (evicted) {
      res.lastActivity = now;
      this.grantNext(res);
    }
  }

  private addHolder(res: Resource, connId: number, leaseMs: number, now: number): Holder {
    const holder: Holder = { token: this.tokens.next(), connId, expiresAt: now + leaseMs, resource: res };
    res.holders.set(holder.token, holder);
    res.lastActivity = now;
    let set = this.owned.get(connId);
    if (!set) this.owned.set(connId, (set = new Set()));
    set.add(holder);
    return holder;
  }

  // Forgets a holder everywhere: the key, the owner's auto-release set, and an
  // `acquired` two-phase entry holding the same token (so a later `w` says
  // error_not_enqueued, as after dflockd's sweep).
  private dropHolder(holder: Holder): void {
    const res = holder.resource;
    res.holders.delete(holder.token);
    const set = this.owned.get(holder.connId);
    if (set?.delete(holder) && set.size === 0) this.owned.delete(holder.connId);
    const entry = this.enqueued(holder.connId, res.key);
    if (entry && entry.token === holder.token) this.deleteEnqueued(holder.connId, res.key);
  }

  private grantNext(res: Resource): void {
    const now = this.clock();
    while (res.waiters.size > 0 && res.holders.size < res.limit) {
      const w = res.waiters.shift()!;
      const holder = this.addHolder(res, w.connId, w.leaseMs, now);
      w.token = holder.token;
      const notify = w.onGrant;
      w.onGrant = null;
      notify?.(holder.token);
    }
  }
}

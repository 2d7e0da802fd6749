/**
 * The part of a running {@link DflockdTestServer} every front-end shares: the
 * compat rules, the parser, the token source, the resource table and the
 * command handlers, plus the owner ids (TCP connections and other front-ends'
 * sessions draw from one counter) and what happens when an owner ends.
 *
 * A front-end other than TCP (an HTTP session) opens an owner, sends requests
 * through {@link CommandHandlers.handle} with a {@link RequestOrigin} of that
 * id, and closes the owner when the session ends.
 *
 * @module
 */

import type { CompatRules } from './compat.js';
import { CommandHandlers } from './handlers.js';
import type { ResolvedServerOptions } from './options.js';
import type { RequestParser } from './request-parser.js';
import { ResourceTable } from './resource-table.js';
import { TokenSource } from './tokens.js';

/** Lock state and request handling of one server run (created at each start). */
export class LockCore {
  /** Hands out the tokens (fenced in `'2.1'`); one per run, so fences are seeded at each start. */
  readonly tokens: TokenSource;
  readonly table: ResourceTable;
  readonly handlers: CommandHandlers;
  private nextOwnerId = 1;
  // Owners from other front-ends: dflockd 2.x counts its HTTP sessions in stats.connections.
  private readonly sessions = new Set<number>();

  constructor(
    private readonly options: ResolvedServerOptions,
    readonly rules: CompatRules,
    readonly parser: RequestParser,
    /** Whole seconds of the default lease (shown when a lease truncates to 0 s). */
    defaultLeaseSec: number,
    /** TCP connections currently handled. */
    private readonly tcpConnections: () => number,
  ) {
    this.tokens = new TokenSource({ fenced: rules.fencedTokens });
    this.table = new ResourceTable(
      { maxLocks: options.maxLocks, maxWaiters: options.maxWaiters, gcMaxIdleMs: options.gcMaxIdle * 1000 },
      this.tokens,
      () => performance.now(),
    );
    this.handlers = new CommandHandlers(this.table, defaultLeaseSec, () => this.connectionCount, rules);
  }

  /** The `connections` figure of `stats`: TCP connections plus open sessions. */
  get connectionCount(): number {
    return this.tcpConnections() + this.sessions.size;
  }

  /** The id of a new TCP connection (`owner_conn_id` in stats), from 1 per run. */
  nextId(): number {
    return this.nextOwnerId++;
  }

  /** A new owner for another front-end's session; it counts in `stats.connections` until {@link closeOwner}. */
  openOwner(): number {
    const id = this.nextId();
    this.sessions.add(id);
    return id;
  }

  /** The session ended: cleaned up exactly as a TCP disconnect. */
  closeOwner(id: number): void {
    if (this.sessions.delete(id)) this.ownerEnded(id);
  }

  /** Held slots go with auto-release; waiters and enqueues too, or always where the mode says so. */
  ownerEnded(id: number): void {
    const release = this.options.autoReleaseOnDisconnect;
    if (release || this.rules.alwaysDropWaiters) this.table.cleanupConnection(id, release);
  }
}

/**
 * The HTTP client's `LeaseLink`: one acquiring session as the lease layer sees a connection.
 * Acquire, enqueue and wait go on that session (it owns what they grant); renew and release go
 * by token on the client's renewal session, so they never wait behind a long poll. The leases
 * granted on the session live on this link: the session's end is theirs (`'disconnected'`).
 *
 * @module
 */
import type { SchedulerLike } from 'rxjs';
import { ConnectionError, DflockdError } from '../errors.js';
import type { LeaseLink, LinkCallback, LinkHolder } from '../lease/lease-link.js';
import { Request, checkedAlready as wire } from '../protocol/commands.js';
import type { HttpSession } from './http-session.js';

/** Where the calls that go by token are made (the client's renewal session). */
export interface TokenCalls {
  /** The server's base URL. */
  readonly server: string;
  byToken(request: Request, callback: LinkCallback): void;
}

const ignore = (): void => undefined;

/** One acquiring session and the renewal session behind it. */
export class HttpLink implements LeaseLink {
  readonly server: string;
  private readonly holders: LinkHolder[] = [];
  private endError: DflockdError | undefined;
  /** The key whose enqueue answer is being handled, and whether its place was given up meanwhile. */
  private pairKey: string | undefined;
  private pairLeft = false;
  /** Per key: this client's releases on their way, and the session calls waiting for them. */
  private readonly releases = new Map<string, { count: number; after: Array<() => void> }>();

  constructor(
    /** The acquiring session. */
    readonly session: HttpSession,
    private readonly tokenCalls: TokenCalls,
    private readonly scheduler: SchedulerLike,
  ) {
    this.server = tokenCalls.server;
  }

  get open(): boolean {
    return this.endError === undefined && this.session.open;
  }

  get holds(): number {
    return this.holders.length;
  }

  get inFlight(): number {
    return this.session.inFlight;
  }

  send(request: Request, callback: LinkCallback): number {
    const sentAt = this.scheduler.now();
    if (!byToken(request)) this.onSession(request, callback);
    else if (request.name === 'release' || request.name === 'semRelease') this.release(request, callback);
    else this.tokenCalls.byToken(request, callback);
    return sentAt;
  }

  /** The enqueue, then — only if it queued, and the place is still wanted — its wait. */
  sendPair(first: Request, onFirst: LinkCallback, second: Request, onSecond: LinkCallback): number {
    const sentAt = this.scheduler.now();
    this.onSession(first, (error, reply) => {
      this.pairKey = first.key;
      this.pairLeft = false;
      try {
        onFirst(error, reply);
      } finally {
        this.pairKey = undefined;
      }
      if (reply?.kind === 'queued' && !this.pairLeft && this.session.open) this.session.call(second, onSecond);
    });
    return sentAt;
  }

  /**
   * A call on the acquiring session — once this client's releases of its key are answered. They
   * go on the other session, so nothing else orders them: a job loop re-taking its key would
   * otherwise have its try-lock refused by its own lease and queue behind itself.
   */
  private onSession(request: Request, callback: LinkCallback): void {
    const pending = this.releases.get(request.key);
    if (pending === undefined) this.session.call(request, callback);
    else pending.after.push(() => this.session.call(request, callback));
  }

  private release(request: Request, callback: LinkCallback): void {
    const key = request.key;
    let pending = this.releases.get(key);
    if (pending === undefined) {
      pending = { count: 0, after: [] };
      this.releases.set(key, pending);
    }
    pending.count++;
    const entry = pending;
    this.tokenCalls.byToken(request, (error, reply) => {
      if (--entry.count === 0 && this.releases.get(key) === entry) {
        this.releases.delete(key);
        for (const call of entry.after) call();
      }
      callback(error, reply);
    });
  }

  heartbeat(): void {
    this.session.ping();
  }

  hold(holder: LinkHolder): void {
    if (this.endError !== undefined || !this.session.open) {
      holder.connectionClosed(this.endError ?? this.closedError());
      return;
    }
    holder.holderIndex = this.holders.length;
    this.holders.push(holder);
  }

  unhold(holder: LinkHolder): void {
    const i = holder.holderIndex;
    if (this.holders[i] !== holder) return;
    const last = this.holders.pop()!;
    if (last !== holder) {
      this.holders[i] = last;
      last.holderIndex = i;
    }
  }

  /**
   * The long poll for `key` is aborted (the server then drops the waiter); with none on the wire
   * — enqueued but not waiting yet — a zero-timeout wait gives the place up, and a grant it
   * brings is released at once.
   */
  leaveQueue(key: string, semaphore: boolean, _reason: string): void {
    if (!this.session.open) return;
    if (this.pairKey === key) this.pairLeft = true;
    else if (this.session.abandon(key)) return;
    this.session.call(wire.wait(key, 0, semaphore), (error, reply) => {
      if (error === undefined && reply !== undefined && (reply.kind === 'granted' || reply.kind === 'acquired')) {
        this.tokenCalls.byToken(wire.release(key, reply.token, semaphore), ignore);
      }
    });
  }

  /** Nothing to drop: closing the client deletes the session, which drops its waiters and holds. */
  destroy(_reason: string): void {}

  /** The session ended (the server's `410`, or the client closed): every lease on it is lost. */
  ended(error: DflockdError): void {
    if (this.endError !== undefined) return;
    this.endError = error;
    for (const holder of this.holders.splice(0)) holder.connectionClosed(error);
  }

  private closedError(): DflockdError {
    return this.endError ?? new ConnectionError(`the session on ${this.server} has ended`, { server: this.server });
  }
}

/** Renew and release go by token, never on the acquiring session (Trap 3: never behind a long poll). */
function byToken(request: Request): boolean {
  switch (request.name) {
    case 'renew':
    case 'semRenew':
    case 'release':
    case 'semRelease':
    case 'stats':
      return true;
    default:
      return false;
  }
}

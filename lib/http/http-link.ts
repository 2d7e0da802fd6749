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
  /** Per key: set while this session holds a place in its queue, with the acquisitions waiting for it. */
  private readonly placed = new Map<string, Array<() => void>>();
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
      if (reply?.kind !== 'queued' || this.pairLeft) return;
      if (this.session.open) this.onSession(second, onSecond);
      else this.settled(first.key);
    });
    return sentAt;
  }

  /**
   * A call on the acquiring session — once this client's releases of its key are answered. They
   * go on the other session, so nothing else orders them: a job loop re-taking its key would
   * otherwise have its try-lock refused by its own lease and queue behind itself.
   */
  private onSession(request: Request, callback: LinkCallback): void {
    const key = request.key;
    const pending = request.name === 'wait' || request.name === 'semWait' ? undefined : this.releases.get(key);
    if (pending !== undefined) {
      pending.after.push(() => this.onSession(request, callback));
      return;
    }
    switch (request.name) {
      case 'lock':
      case 'semLock':
      case 'enqueue':
      case 'semEnqueue': {
        // A session holds one place per key in a queue (a second enqueue is `already_enqueued`):
        // another acquisition of the key on this client starts once that place is settled.
        const waiting = this.placed.get(key);
        if (waiting !== undefined) {
          waiting.push(() => this.onSession(request, callback));
          return;
        }
        if (request.name === 'lock' || request.name === 'semLock') break;
        this.placed.set(key, []);
        this.session.call(request, (error, reply) => {
          callback(error, reply);
          if (reply?.kind !== 'queued') this.settled(key);
        });
        return;
      }
      case 'wait':
      case 'semWait':
        this.session.call(request, (error, reply) => {
          callback(error, reply);
          this.settled(key);
        });
        return;
      default:
        break;
    }
    this.session.call(request, callback);
  }

  /** This client's place in `key`'s queue is settled (granted, timed out, given up): the next acquisition of it may start. */
  private settled(key: string): void {
    const waiting = this.placed.get(key);
    if (waiting === undefined) return;
    this.placed.delete(key);
    for (const run of waiting) run();
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
    else if (this.session.abandon(key)) {
      this.settled(key);
      return;
    }
    this.onSession(wire.wait(key, 0, semaphore), (error, reply) => {
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
    // Calls held back for a key run now and fail at once on the ended session: none is left waiting.
    for (const key of [...this.placed.keys()]) this.settled(key);
    const releases = [...this.releases.values()];
    this.releases.clear();
    for (const entry of releases) for (const run of entry.after) run();
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

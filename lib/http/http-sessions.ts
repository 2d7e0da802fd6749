/**
 * Where the HTTP client's acquisitions get their link (the lease layer's `LeaseTarget`): one
 * acquiring session per client, created lazily and re-created after the server ended it, plus
 * one renewal session for the calls that go by token (renew, release), so that a renewal never
 * waits behind a long poll (PROTOCOL.md §3.2, Trap 3).
 *
 * @module
 */
import { Observable } from 'rxjs';
import { ConnectTimeoutError, ConnectionError, DflockdError, ProtocolError } from '../errors.js';
import type { LeaseTarget, LinkCallback } from '../lease/lease-link.js';
import type { Request } from '../protocol/commands.js';
import { HttpLink } from './http-link.js';
import { httpError } from './http-mapping.js';
import { HttpSession, SessionGrant, SessionOwner, SessionSettings } from './http-session.js';

/** Settings of the sessions of one client. */
export interface HttpSessionsSettings extends SessionSettings {
  /** Bound on creating a session (ms): `ConnectTimeoutError` beyond it. */
  readonly connectTimeoutMs: number;
  /** A session the server ended: its leases are lost; reported on the client's `events$`. */
  readonly onGone: (error: ConnectionError) => void;
}

type Waiter = (error: DflockdError | undefined, session: HttpSession | undefined) => void;

/** A session made on first use and again after it ended; callers wait for the one being made. */
class LazySession {
  current: HttpSession | undefined;
  /** Set when the client closes: a session made after that is deleted at once. */
  closed = false;
  private waiters: Waiter[] | undefined;

  constructor(
    private readonly settings: HttpSessionsSettings,
    private readonly owner: SessionOwner,
  ) {}

  /** `use` gets the open session (now, or once made) or the error making it; returns a cancel. */
  get(use: Waiter): () => void {
    const current = this.current;
    if (current !== undefined && current.open) {
      use(undefined, current);
      return () => undefined;
    }
    if (this.waiters === undefined) {
      this.waiters = [use];
      this.create();
    } else this.waiters.push(use);
    return () => {
      const i = this.waiters?.indexOf(use) ?? -1;
      if (i >= 0) this.waiters!.splice(i, 1);
    };
  }

  private create(): void {
    const { transport, connectTimeoutMs } = this.settings;
    transport.exchange(
      { method: 'POST', path: '/v1/sessions' },
      connectTimeoutMs,
      () => new ConnectTimeoutError(`creating a session on ${transport.server}: no answer within connectTimeoutS=${connectTimeoutMs / 1000}`, { server: transport.server, command: 'session' }),
      (error, answer) => {
        let result: SessionGrant | DflockdError | undefined = error;
        if (answer !== undefined) {
          const context = { server: transport.server, command: 'session' };
          result = answer.status >= 200 && answer.status <= 299 ? grantOf(answer.text, transport.server) : httpError(answer, context);
        }
        const waiters = this.waiters ?? [];
        this.waiters = undefined;
        if (result instanceof DflockdError) {
          for (const waiter of waiters) waiter(result, undefined);
          return;
        }
        const session = new HttpSession(this.settings, this.owner, result!.id, result!.idleTimeoutS);
        if (this.closed) {
          const closed = new ConnectionError(`the client for ${transport.server} is closed`, { server: transport.server });
          void session.end(closed, true);
          for (const waiter of waiters) waiter(closed, undefined);
          return;
        }
        this.current = session;
        for (const waiter of waiters) waiter(undefined, session);
      },
    );
  }
}

function grantOf(text: string, server: string): SessionGrant | DflockdError {
  try {
    const body = JSON.parse(text) as { session_id?: unknown; idle_timeout_s?: unknown };
    if (typeof body.session_id === 'string' && /^[A-Za-z0-9_-]{1,128}$/.test(body.session_id)) {
      const idle = typeof body.idle_timeout_s === 'number' && body.idle_timeout_s > 0 ? body.idle_timeout_s : 20;
      return { id: body.session_id, idleTimeoutS: idle };
    }
  } catch {
    // Falls through to the error.
  }
  return new ProtocolError(`creating a session on ${server}: unexpected answer ${JSON.stringify(text.slice(0, 120))}`, { server, command: 'session' });
}

/** The sessions of one {@link DflockdHttpClient}, as the lease layer's link source. */
export class HttpSessions implements LeaseTarget<HttpLink>, SessionOwner {
  /** The server's base URL. */
  readonly server: string;
  private readonly acquiring: LazySession;
  private readonly renewing: LazySession;
  private link: HttpLink | undefined;
  private closed = false;

  constructor(private readonly settings: HttpSessionsSettings) {
    this.server = settings.transport.server;
    this.acquiring = new LazySession(settings, this);
    this.renewing = new LazySession(settings, this);
  }

  sharedNow(): HttpLink | undefined {
    const link = this.link;
    return link !== undefined && link.open ? link : undefined;
  }

  shared(): Observable<HttpLink> {
    return new Observable<HttpLink>((subscriber) => {
      if (this.closed) {
        subscriber.error(new ConnectionError(`the client for ${this.server} is closed`, { server: this.server }));
        return undefined;
      }
      return this.acquiring.get((error, session) => {
        if (error !== undefined) {
          subscriber.error(error);
          return;
        }
        if (this.link === undefined || this.link.session !== session) this.link = new HttpLink(session!, this, this.settings.scheduler);
        subscriber.next(this.link);
        subscriber.complete();
      });
    });
  }

  /** One session serves every acquisition: waits are served one at a time (the server does so per session). */
  dedicatedNow(): HttpLink | undefined {
    return this.sharedNow();
  }

  dedicated(): Observable<HttpLink> {
    return this.shared();
  }

  /** Nothing to give back: the session is not lent. */
  adopt(): void {}

  /**
   * A call that goes by token (renew, release) on the renewal session, made on first use. A
   * renewal session the server ended is made again and the call retried once there: it holds
   * nothing, so its end costs no lease.
   */
  byToken(request: Request, callback: LinkCallback, retried = false): void {
    if (this.closed && this.renewing.current === undefined) {
      queueMicrotask(() => callback(new ConnectionError(`the client for ${this.server} is closed`, { server: this.server }), undefined));
      return;
    }
    this.renewing.get((error, session) => {
      if (error !== undefined) {
        callback(error, undefined);
        return;
      }
      session!.call(request, (failure, reply) => {
        if (failure !== undefined && !retried && !session!.open && !this.closed && this.renewing.current === session) {
          this.renewing.current = undefined;
          this.byToken(request, callback, true);
        } else callback(failure, reply);
      });
    });
  }

  /** From a session: the server ended it. */
  gone(session: HttpSession, error: ConnectionError): void {
    if (session === this.link?.session) {
      const link = this.link;
      this.link = undefined;
      this.acquiring.current = undefined;
      this.settings.onGone(error);
      link.ended(error);
    }
  }

  /** Ends both sessions; with `remove`, deletes them on the server. Never rejects. */
  close(remove: boolean): Promise<void> {
    this.closed = true;
    this.acquiring.closed = true;
    this.renewing.closed = true;
    const error = new ConnectionError(`the client for ${this.server} is closed`, { server: this.server });
    const ends: Promise<void>[] = [];
    const link = this.link;
    this.link = undefined;
    link?.ended(error);
    for (const session of [this.acquiring.current, this.renewing.current]) if (session !== undefined && session.open) ends.push(session.end(error, remove));
    this.acquiring.current = undefined;
    this.renewing.current = undefined;
    return Promise.all(ends).then(() => undefined);
  }
}

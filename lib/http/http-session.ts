/**
 * One dflockd HTTP session (PROTOCOL.md §3.2): the HTTP counterpart of a TCP connection. The
 * server serves a session's calls one at a time, so this class does too: calls wait in a FIFO
 * and only the head is on the wire, watched for `requestTimeoutMs` (plus its own long-poll
 * timeout). It pings itself at half the session's idle timeout (pings do not queue: the server
 * answers them even while a long poll runs), and ends on `410 session_gone`.
 *
 * @module
 */
import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { ConnectionError, DflockdError } from '../errors.js';
import { Request, blockingMs, keyOf } from '../protocol/commands.js';
import type { LinkCallback } from '../lease/lease-link.js';
import { contextOf, httpCallFor, replyFor } from './http-mapping.js';
import type { HttpAnswer, HttpTransport } from './http-transport.js';

/** A call waiting for (or on) the wire. */
interface SessionCall {
  readonly request: Request;
  readonly callback: LinkCallback;
  /** Aborts it while on the wire. */
  cancel: (() => void) | undefined;
}

/** What a session tells its owner. */
export interface SessionOwner {
  /** The server ended the session (`410 session_gone`, or a ping found it gone): everything it held is released. */
  gone(session: HttpSession, error: ConnectionError): void;
}

/** Settings shared by the sessions of one client. */
export interface SessionSettings {
  readonly transport: HttpTransport;
  readonly scheduler: SchedulerLike;
  readonly requestTimeoutMs: number;
}

/** A session the server created: its id and the idle timeout it announced. */
export interface SessionGrant {
  readonly id: string;
  readonly idleTimeoutS: number;
}

/** One server session: a FIFO of calls, one on the wire, pinged while open. */
export class HttpSession {
  private readonly queue: SessionCall[] = [];
  private current: SessionCall | undefined;
  private pinger: Subscription | undefined;
  private endError: DflockdError | undefined;

  constructor(
    private readonly settings: SessionSettings,
    private readonly owner: SessionOwner,
    /** The session id (`X-Dflockd-Session`). */
    readonly id: string,
    /** The session's idle timeout announced by the server (s): it is reaped after twice that unseen. */
    readonly idleTimeoutS: number,
  ) {
    this.startPinging();
  }

  /** False once the session ended (gone, deleted, or the client closed). */
  get open(): boolean {
    return this.endError === undefined;
  }

  /** Calls queued or on the wire. */
  get inFlight(): number {
    return this.queue.length + (this.current === undefined ? 0 : 1);
  }

  /** Queues a call; `callback` gets exactly one reply or error (asynchronously). */
  call(request: Request, callback: LinkCallback): void {
    const error = this.endError;
    if (error !== undefined) {
      queueMicrotask(() => callback(error, undefined));
      return;
    }
    this.queue.push({ request, callback, cancel: undefined });
    if (this.current === undefined) this.next();
  }

  /**
   * Takes back the blocking calls for `key` (its acquire or wait long poll, on the wire or still
   * queued): they are aborted — the server gives the place up — and get no callback. Returns
   * whether there was one.
   */
  abandon(key: string): boolean {
    let found = false;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const call = this.queue[i]!;
      if (call.request.blocking && keyOf(call.request) === key) {
        this.queue.splice(i, 1);
        found = true;
      }
    }
    const current = this.current;
    if (current !== undefined && current.request.blocking && keyOf(current.request) === key) {
      current.cancel?.();
      this.current = undefined;
      found = true;
      this.next();
    }
    return found;
  }

  /** Sends a ping now (besides the regular ones); a gone session is reported to the owner. */
  ping(): void {
    if (this.endError !== undefined) return;
    const { transport, requestTimeoutMs } = this.settings;
    transport.exchange(
      { method: 'POST', path: `/v1/sessions/${this.id}/ping`, session: this.id },
      requestTimeoutMs,
      () => new ConnectionError(`session ping on ${transport.server}: no answer within requestTimeoutS=${requestTimeoutMs / 1000}`, { server: transport.server, command: 'ping' }),
      (error, answer) => {
        if (answer !== undefined && answer.status === 410) this.serverEnded(answer);
        // Anything else (a network blip, a slow server) is for the calls to find out: a ping decides nothing.
        void error;
      },
    );
  }

  /**
   * Ends the session locally: every call fails with `error`, the pings stop. With `remove`, it is
   * also deleted on the server (releasing what it holds); the promise settles when that is
   * answered, failed, or `requestTimeoutMs` passed — it never rejects.
   */
  end(error: DflockdError, remove: boolean): Promise<void> {
    this.fail(error);
    if (!remove) return Promise.resolve();
    const { transport, requestTimeoutMs } = this.settings;
    return new Promise<void>((resolve) => {
      transport.exchange(
        { method: 'DELETE', path: `/v1/sessions/${this.id}`, session: this.id },
        requestTimeoutMs,
        () => new ConnectionError(`DELETE session on ${transport.server}: no answer`, { server: transport.server }),
        () => resolve(),
      );
    });
  }

  private startPinging(): void {
    // Half the idle timeout, as the server's docs ask; at least every second on a tiny timeout.
    const every = Math.max(1_000, (this.idleTimeoutS * 1000) / 2);
    const session = this;
    this.pinger = this.settings.scheduler.schedule(function (this: SchedulerAction<unknown>) {
      session.ping();
      if (session.open) this.schedule(undefined, every);
    }, every);
  }

  private next(): void {
    const call = this.queue.shift();
    this.current = call;
    if (call === undefined) return;
    const { transport, requestTimeoutMs } = this.settings;
    const { request } = call;
    let http;
    try {
      http = httpCallFor(request);
    } catch (error) {
      this.current = undefined;
      queueMicrotask(() => call.callback(error as DflockdError, undefined));
      this.next();
      return;
    }
    // A long poll may legitimately take its own timeout; anything beyond requestTimeoutS is silence.
    const timeoutMs = requestTimeoutMs + blockingMs(request);
    call.cancel = transport.exchange({ method: http.method, path: http.path, body: http.body, session: this.id }, timeoutMs, () => this.lateError(request), (error, answer) => {
      if (this.current === call) {
        this.current = undefined;
        this.answered(call, error, answer);
        // The callback may have queued (and so started) the next call itself.
        if (this.endError === undefined && this.current === undefined) this.next();
      }
    });
  }

  private answered(call: SessionCall, error: DflockdError | undefined, answer: HttpAnswer | undefined): void {
    const context = contextOf(call.request, this.settings.transport.server);
    if (answer === undefined) {
      call.callback(new ConnectionError(`${error!.message}`, { ...context, cause: error }), undefined);
      return;
    }
    const result = replyFor(call.request, answer, context);
    if (result instanceof DflockdError) {
      // The session's end first: the caller then finds it closed (and its leases already lost).
      if (answer.status === 410) this.serverEnded(answer, result as ConnectionError);
      call.callback(result, undefined);
    } else call.callback(undefined, result);
  }

  private lateError(request: Request): ConnectionError {
    const seconds = this.settings.requestTimeoutMs / 1000;
    const { key, command, server } = contextOf(request, this.settings.transport.server);
    const beyond = request.blocking ? `, beyond its own ${blockingMs(request) / 1000} s` : '';
    return new ConnectionError(`${key !== undefined ? `key "${key}" ` : ''}${command} on ${server}: no answer within requestTimeoutS=${seconds}${beyond}; the request was aborted`, {
      key,
      command,
      server,
    });
  }

  private serverEnded(answer: HttpAnswer, known?: ConnectionError): void {
    if (this.endError !== undefined) return;
    const error =
      known ??
      new ConnectionError(`session ${this.id} on ${this.settings.transport.server} is gone (HTTP ${answer.status}): the server released what it held`, { server: this.settings.transport.server });
    this.fail(error);
    this.owner.gone(this, error);
  }

  private fail(error: DflockdError): void {
    if (this.endError !== undefined) return;
    this.endError = error;
    this.pinger?.unsubscribe();
    this.pinger = undefined;
    const calls = this.current === undefined ? this.queue.splice(0) : [this.current, ...this.queue.splice(0)];
    this.current?.cancel?.();
    this.current = undefined;
    for (const call of calls) {
      const context = contextOf(call.request, this.settings.transport.server, error);
      call.callback(new ConnectionError(`${context.key !== undefined ? `key "${context.key}" ` : ''}${call.request.verb}: ${error.message}`, context), undefined);
    }
  }
}

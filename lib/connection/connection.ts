import { Observable, SchedulerLike, Subscription } from 'rxjs';
import { ConnectionError, DflockdError, DrainingError } from '../errors.js';
import { encodeRequest } from '../protocol/codec.js';
import { Request, blockingMs, keyOf, pingRequest, statsRequest } from '../protocol/commands.js';
import { closedByServer, drained, noReply, pendingFailed } from './connection-errors.js';
import { Reply, acceptReply, interpretReply } from '../protocol/replies.js';
import type { LineListener, LineSocket } from '../transport/line-socket.js';
import { swapRemove } from '../swap-remove.js';
import { ReplyWatchdog } from './reply-watchdog.js';

/**
 * What lives on a connection (a held lease): told when the connection ends.
 * @internal
 */
export interface ConnectionHolder {
  connectionClosed(error: DflockdError): void;
  /** Its place among the connection's holders, kept by the connection (removal is a swap, not a search). */
  holderIndex: number;
}

/** Called once with the reply or the error for one request. */
export type ReplyCallback = (error: DflockdError | undefined, reply: Reply | undefined) => void;

/** What a {@link Connection} needs besides its socket. */
export interface ConnectionSettings {
  /** `host:port` of the server, named in every error. */
  readonly server: string;
  /** The clock (`now()`, monotonic ms) and the reply watchdog's timer (`schedule()`). */
  readonly scheduler: SchedulerLike;
  /**
   * How long the request at the head of the reply queue may go unanswered, in ms, before the
   * connection is declared broken (a blocking `l`/`sl`/`w`/`sw` is allowed its own timeout on top).
   */
  readonly requestTimeoutMs: number;
}

interface Pending {
  readonly request: Request;
  readonly sentAt: number;
  callback: ReplyCallback | undefined;
}

const ignore = (): void => undefined;

/**
 * Request/reply over one socket. The server answers strictly in order, one line per request,
 * so replies are matched to a FIFO of pending requests. The connection is done for good — every
 * pending request fails with its error, every holder is told, onClose handlers run — on
 * evidence that it is broken: the socket closed or failed, a line that is no reply, or the
 * request at the head of the FIFO unanswered for `requestTimeoutMs` (the reply watchdog).
 *
 * @example
 * ```ts
 * const conn = new Connection(socket, { server: socket.remote, scheduler: monotonicScheduler, requestTimeoutMs: 10_000 });
 * conn.request$(statsRequest()).subscribe((reply) => console.log(reply));
 * ```
 */
export class Connection {
  private readonly pending: Pending[] = [];
  private head = 0;
  private unlisten: () => void;
  private closeError: DflockdError | undefined;
  private readonly closeHandlers = new Set<(error: DflockdError) => void>();
  /** Monotonic ms of the last request written (the server's idle clock restarts when it reads it). */
  lastSentAt: number;
  /** The leases living on this connection. */
  private readonly holders: ConnectionHolder[] = [];
  /** Whether any reply arrived: a close before the first one usually means a refusal, not a crash. */
  private answered = false;
  private referenced = true;
  /** Set by an `error_draining` reply: the server is shutting down and will close this connection. */
  private draining: DrainingError | undefined;
  /** Told once when this connection learns the server is draining (the pool tells the others). */
  private drainingHandler: ((error: DrainingError) => void) | undefined;
  /** Whether the server answers `ping` with `ok` (dflockd ≥ 1.14); learnt from the first ping. */
  private pingAnswered: boolean | undefined;
  /** True once the reply watchdog declared this connection broken. */
  private silent = false;
  private readonly scheduler: SchedulerLike;
  private readonly requestTimeoutMs: number;
  private readonly watchdog: ReplyWatchdog;

  /** `host:port` of the server. */
  readonly server: string;

  constructor(
    private readonly socket: LineSocket,
    settings: ConnectionSettings,
  ) {
    const server = settings.server;
    this.server = server;
    this.scheduler = settings.scheduler;
    this.requestTimeoutMs = settings.requestTimeoutMs;
    this.watchdog = new ReplyWatchdog(this.scheduler, () => this.late());
    this.lastSentAt = this.scheduler.now();
    const listener: LineListener = {
      line: (line) => this.onLine(line),
      error: (error) => this.fail(error),
      end: () => this.fail(closedByServer(server, this.answered)),
    };
    // An open socket from connectLineSocket hands lines over directly; any other through lines$
    // (which also replays the end of a socket that is already done).
    if (socket.listen && socket.open) this.unlisten = socket.listen(listener);
    else {
      // A socket that already ended replays its end inside subscribe(): fail() must find unlisten set.
      let subscription: Subscription | undefined;
      this.unlisten = () => subscription?.unsubscribe();
      subscription = socket.lines$.subscribe({ next: listener.line, error: listener.error, complete: listener.end });
    }
    this.updateRef();
  }

  /** False once the socket closed or failed, or the server said it is draining; such a connection is never reused. */
  get open(): boolean {
    return this.closeError === undefined && this.draining === undefined && this.socket.open;
  }

  /**
   * True once the reply watchdog found the connection silent (no reply within requestTimeoutMs).
   * @internal
   */
  get unanswered(): boolean {
    return this.silent;
  }

  /** Leases whose owning connection this is: their renewals keep it alive and its loss loses them. */
  get holds(): number {
    return this.holders.length;
  }

  /**
   * A lease now lives here: it keeps the connection (and the process) alive, and is told if the
   * connection ends — at once if it already has.
   * @internal
   */
  hold(holder: ConnectionHolder): void {
    if (this.closeError !== undefined) {
      holder.connectionClosed(this.closeError);
      return;
    }
    holder.holderIndex = this.holders.length;
    this.holders.push(holder);
    this.updateRef();
  }

  /**
   * The lease no longer lives here (released or lost).
   * @internal
   */
  unhold(holder: ConnectionHolder): void {
    const i = holder.holderIndex;
    if (this.holders[i] !== holder) return;
    const moved = swapRemove(this.holders, i);
    if (moved !== undefined) moved.holderIndex = i;
    this.updateRef();
  }

  /** Requests written and not yet answered. */
  get inFlight(): number {
    return this.pending.length - this.head;
  }

  /**
   * Writes a request; `callback` gets exactly one reply or error. Returns `scheduler.now()` at
   * the send. Requests of one tick leave in one write (the socket batches them): callers never
   * decide batching.
   */
  send(request: Request, callback: ReplyCallback): number {
    const sentAt = this.scheduler.now();
    if (this.refused(callback)) return sentAt;
    const wasIdle = this.head === this.pending.length;
    this.pending.push({ request, sentAt, callback });
    this.sent(sentAt, wasIdle);
    this.write(encodeRequest(request.verb, request.key, request.arg), wasIdle);
    return sentAt;
  }

  /**
   * Two requests in one write (an enqueue and its wait: the server reads the second once it has
   * answered the first). Returns their send time.
   * @internal
   */
  sendPair(first: Request, onFirst: ReplyCallback, second: Request, onSecond: ReplyCallback): number {
    const sentAt = this.scheduler.now();
    if (this.refused(onFirst, onSecond)) return sentAt;
    const wasIdle = this.head === this.pending.length;
    this.pending.push({ request: first, sentAt, callback: onFirst }, { request: second, sentAt, callback: onSecond });
    this.sent(sentAt, wasIdle);
    this.write(encodeRequest(first.verb, first.key, first.arg) + encodeRequest(second.verb, second.key, second.arg), wasIdle);
    return sentAt;
  }

  /**
   * The connection's batching rule: a request on an idle connection (nothing in flight) leaves at
   * once — its answer is what the caller waits for, and nothing else is coming on this connection
   * to share a write with; on a busy one, the requests of a tick share one write at its end.
   * Measured against dflockd v1.10.0, medians in the same runs: writing every request at the end
   * of the tick put (b)'s hand-off p50 at 1.41× the raw loop (9 runs; the previous code 1.19×);
   * this rule at 1.24× (7 runs; the previous code 1.22×).
   */
  private write(text: string, idle: boolean): void {
    if (idle && this.socket.sendNow !== undefined) this.socket.sendNow(text);
    else this.socket.send(text);
  }

  /**
   * Resets the server's idle clock: `ping` where the server answers it with `ok` (dflockd ≥ 1.14;
   * learnt from the first ping on this connection), else `stats` — 1.10 answers `ping` with
   * `error`, which also counts as traffic, but is ambiguous with the `error` sent before an idle
   * close (Trap 5). Its reply is watched like any other: a silent server breaks the connection.
   */
  heartbeat(): void {
    this.send(this.pingAnswered === false ? statsRequest() : pingRequest(), ignore);
  }

  /** On a closed connection: the callbacks get its error (asynchronously, as a reply would), and nothing is written. */
  private refused(first: ReplyCallback, second?: ReplyCallback): boolean {
    const error = this.closeError;
    if (error === undefined) return false;
    queueMicrotask(() => {
      first(error, undefined);
      second?.(error, undefined);
    });
    return true;
  }

  private sent(at: number, wasIdle: boolean): void {
    this.lastSentAt = at;
    // The new request is the head: its deadline starts now.
    if (wasIdle) this.watchHead(at);
    if (!this.referenced) this.updateRef();
  }

  /** Arms the watchdog for the request now at the head of the FIFO, which became the head at `since`. */
  private watchHead(since: number): void {
    const request = this.pending[this.head]!.request;
    this.watchdog.watch(since + this.requestTimeoutMs + blockingMs(request), since);
  }

  /** The watchdog fired: the head request had its time and more. The connection is broken. */
  private late(): void {
    if (this.closeError !== undefined || this.head >= this.pending.length) return;
    this.silent = true;
    this.fail(noReply(this.server, this.pending[this.head]!.request, this.requestTimeoutMs));
  }

  /** {@link send} as a cold Observable of the one reply; unsubscribing discards the reply, not the request. */
  request$(request: Request): Observable<Reply> {
    return new Observable<Reply>((subscriber) => {
      let live = true;
      this.send(request, (error, reply) => {
        if (!live) return;
        if (error) subscriber.error(error);
        else {
          subscriber.next(reply!);
          subscriber.complete();
        }
      });
      return () => {
        live = false;
      };
    });
  }

  /** Registers a handler for the end of this connection (called at most once); returns its removal. */
  onClose(handler: (error: DflockdError) => void): () => void {
    if (this.closeError !== undefined) {
      handler(this.closeError);
      return () => undefined;
    }
    this.closeHandlers.add(handler);
    return () => this.closeHandlers.delete(handler);
  }

  /**
   * Ends the connection gracefully: what was written still leaves (a release reaches the server),
   * then the socket ends; pending requests fail at once. The socket is destroyed only after a
   * grace period or on error.
   */
  close(reason = 'closed by the client'): void {
    this.fail(new ConnectionError(`connection to ${this.server} ${reason}`, { server: this.server }), false);
  }

  /**
   * Leaves `key`'s queue: closing the connection is the only way out of a TCP queue (the server
   * drops the waiter), so the connection is destroyed. (The lease layer's `LeaseLink` contract.)
   * @internal
   */
  leaveQueue(_key: string, _semaphore: boolean, reason: string): void {
    this.destroy(reason);
  }

  /** Drops the connection at once: its state is unknown and must not be trusted. */
  destroy(reason: string): void {
    this.fail(new ConnectionError(`connection to ${this.server} ${reason}`, { server: this.server }), true);
  }

  /**
   * A connection keeps the process alive only while it matters: a request is in flight or a
   * lease depends on it. An idle pooled connection never holds the process open.
   */
  private updateRef(): void {
    const wanted = this.holders.length > 0 || this.head < this.pending.length;
    if (wanted !== this.referenced) {
      this.referenced = wanted;
      this.socket.setKeepAlive(wanted);
    }
  }

  private onLine(line: string): void {
    if (this.head >= this.pending.length) {
      // The server speaks unasked only before closing (idle timeout, line too long), or never.
      this.destroy(`sent ${JSON.stringify(line.slice(0, 80))} with no request pending`);
      return;
    }
    this.answered = true;
    const entry = this.pending[this.head]!;
    this.pending[this.head++] = undefined as unknown as Pending;
    if (this.head > 64 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    // The next request is the head from now on (a request behind a blocking one is not late while it blocks).
    if (this.head < this.pending.length) this.watchHead(this.scheduler.now());
    else this.watchdog.idle();
    const request = entry.request;
    if (request.expect === 'ping' && this.pingAnswered === undefined) this.pingAnswered = line === 'ok';
    // A success needs no error context: it is built only for what is not one.
    const result = acceptReply(line, request.expect) ?? interpretReply(line, request.expect, { key: keyOf(request), command: request.verb, server: this.server });
    const callback = entry.callback;
    entry.callback = undefined;
    if (result instanceof DflockdError) {
      if (result.code === 'error_draining') this.serverDraining(result as DrainingError);
      callback?.(result, undefined);
      // A line that is no reply leaves the framing unknown: never reuse this connection.
      if (result.code === 'PROTOCOL_ERROR') this.destroy('sent a line that is not a dflockd reply');
    } else {
      callback?.(undefined, result);
    }
    // After the callback: a grant makes the connection hold a lease, and it stays referenced
    // instead of being unreferenced and referenced again.
    if (this.referenced && this.head === this.pending.length && this.closeError === undefined) this.updateRef();
  }

  /**
   * The server is shutting down (this connection, or another to the same server, got
   * `error_draining`): this connection is not reused, and whatever ends it now is reported as a
   * `DrainingError`, so its leases are lost with reason `'server-shutdown'`.
   * @internal
   */
  serverDraining(error: DrainingError): void {
    if (this.draining !== undefined || this.closeError !== undefined) return;
    this.draining = error;
    const handler = this.drainingHandler;
    this.drainingHandler = undefined;
    handler?.(error);
  }

  /**
   * Registers the handler told when this connection first learns the server is draining.
   * @internal
   */
  whenDraining(handler: (error: DrainingError) => void): void {
    this.drainingHandler = handler;
  }

  private fail(cause: DflockdError, destroy = true): void {
    if (this.closeError !== undefined) return;
    // After `error_draining` the server closes the connection: whatever ends it, its holders and
    // pending requests learn the server is shutting down (a lease reports 'server-shutdown').
    const error = this.draining === undefined || cause instanceof DrainingError ? cause : drained(this.server, cause);
    this.closeError = error;
    this.watchdog.stop();
    this.unlisten();
    if (destroy) this.socket.destroy();
    else this.socket.close();
    const pending = this.pending.slice(this.head);
    this.pending.length = 0;
    this.head = 0;
    for (const entry of pending) {
      const callback = entry.callback;
      entry.callback = undefined;
      callback?.(pendingFailed(this.server, entry.request, error), undefined);
    }
    const handlers = [...this.closeHandlers];
    this.closeHandlers.clear();
    for (const handler of handlers) handler(error);
    const holders = this.holders.splice(0);
    for (const holder of holders) holder.connectionClosed(error);
  }
}

import { Observable, Subscription } from 'rxjs';
import { ConnectionError, DflockdError, ProtocolError } from '../errors.js';
import { encodeRequest } from '../protocol/codec.js';
import { Request, pingRequest } from '../protocol/commands.js';
import { Reply, acceptReply, interpretReply } from '../protocol/replies.js';
import type { LineListener, LineSocket } from '../transport/line-socket.js';
import { swapRemove } from '../swap-remove.js';

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

interface Pending {
  readonly request: Request;
  readonly sentAt: number;
  callback: ReplyCallback | undefined;
}

/**
 * Request/reply over one socket. The server answers strictly in order, one line per request,
 * so replies are matched to a FIFO of pending requests. When the socket closes or sends a line
 * that is no reply, every pending request fails and the connection is done for good.
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

  constructor(
    private readonly socket: LineSocket,
    /** `host:port` of the server. */
    readonly server: string,
    private readonly now: () => number,
  ) {
    this.lastSentAt = now();
    const listener: LineListener = {
      line: (line) => this.onLine(line),
      error: (error) => this.fail(error),
      end: () =>
        this.fail(
          new ConnectionError(
            this.answered
              ? `connection to ${server} closed by the server`
              : `connection to ${server} closed by the server before any reply: is it at --max-connections, does it expect TLS, or is this the wrong port?`,
            { server },
          ),
        ),
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

  /** False once the socket closed or failed; a closed connection is never reused. */
  get open(): boolean {
    return this.closeError === undefined && this.socket.open;
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
   * Writes a request; `callback` gets exactly one reply or error. Returns the monotonic send time.
   * Requests of one tick share one write at its end; `now` writes at once (see {@link LineSocket.send}).
   * The lease layer asks for `now` only for a latency-critical request on an otherwise idle
   * connection (a release, a try-lock, an enqueue and its wait): on a busy one, other requests
   * follow in the same tick and one write for all is cheaper.
   */
  send(request: Request, callback: ReplyCallback, now = false): number {
    const sentAt = this.now();
    if (this.refused(callback)) return sentAt;
    this.pending.push({ request, sentAt, callback });
    this.sent(sentAt);
    this.socket.send(encodeRequest(request.verb, request.key, request.arg), now);
    return sentAt;
  }

  /**
   * Two requests in one write, as {@link send} would write them in one tick (an enqueue and its
   * wait: the server reads the second once it has answered the first). Returns their send time.
   * @internal
   */
  sendPair(first: Request, onFirst: ReplyCallback, second: Request, onSecond: ReplyCallback, now = false): number {
    const sentAt = this.now();
    if (this.refused(onFirst, onSecond)) return sentAt;
    this.pending.push({ request: first, sentAt, callback: onFirst }, { request: second, sentAt, callback: onSecond });
    this.sent(sentAt);
    this.socket.send(encodeRequest(first.verb, first.key, first.arg) + encodeRequest(second.verb, second.key, second.arg), now);
    return sentAt;
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

  private sent(at: number): void {
    this.lastSentAt = at;
    if (!this.referenced) this.updateRef();
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

  /** Keeps the server's idle clock from running out (a placeholder until the heartbeat learns `ping`). */
  heartbeat(): void {
    this.send(pingRequest(), () => undefined);
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

  /** Ends the connection after flushing writes (a written `r` still reaches the server). */
  close(reason = 'closed by the client'): void {
    this.fail(new ConnectionError(`connection to ${this.server} ${reason}`, { server: this.server }), false);
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
    const request = entry.request;
    // A success needs no error context: it is built only for what is not one.
    const result =
      acceptReply(line, request.expect) ?? interpretReply(line, request.expect, { key: request.key === '_' ? undefined : request.key, command: request.verb, server: this.server });
    const callback = entry.callback;
    entry.callback = undefined;
    if (result instanceof DflockdError) {
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

  private fail(error: DflockdError, destroy = true): void {
    if (this.closeError !== undefined) return;
    this.closeError = error;
    this.unlisten();
    if (destroy) this.socket.destroy();
    else this.socket.close();
    const pending = this.pending.slice(this.head);
    this.pending.length = 0;
    this.head = 0;
    for (const entry of pending) {
      const callback = entry.callback;
      entry.callback = undefined;
      const context = { key: entry.request.key, command: entry.request.verb, server: this.server, cause: error };
      const message = `${entry.request.verb} ${entry.request.key}: ${error.message}`;
      // A garbled reply stream is a protocol error for the request that waited on it, not a mere disconnect.
      callback?.(error instanceof ProtocolError ? new ProtocolError(message, context) : new ConnectionError(message, context), undefined);
    }
    const handlers = [...this.closeHandlers];
    this.closeHandlers.clear();
    for (const handler of handlers) handler(error);
    const holders = this.holders.splice(0);
    for (const holder of holders) holder.connectionClosed(error);
  }
}

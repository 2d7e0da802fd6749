/**
 * What the lease layer needs of "a connection" and of "where to get one": the narrow interfaces
 * that both the TCP {@link Connection} / {@link ServerPool} pair and the HTTP session adapter of
 * `dflockd-rx/http` satisfy. Type-only: nothing here exists at run time, so the lease layer
 * (acquisition, held lease, lease stream) imports no transport at all.
 *
 * @module
 */
import type { Observable } from 'rxjs';
import type { DflockdError } from '../errors.js';
import type { Request } from '../protocol/commands.js';
import type { Reply } from '../protocol/replies.js';

/** Called once with the parsed reply or the error for one request. */
export type LinkCallback = (error: DflockdError | undefined, reply: Reply | undefined) => void;

/** What lives on a link (a held lease): told once when the link ends. */
export interface LinkHolder {
  connectionClosed(error: DflockdError): void;
  /** Its place among the link's holders, kept by the link (removal is a swap, not a search). */
  holderIndex: number;
}

/**
 * One request/reply channel to a server, as the lease layer uses it: a TCP connection, or an
 * HTTP session pair. A lease lives on the link that granted it: the link's loss is the lease's.
 */
export interface LeaseLink {
  /** The server's address, named in every error. */
  readonly server: string;
  /** False once the link is broken or closed; such a link is never reused. */
  readonly open: boolean;
  /** Leases living on this link. */
  readonly holds: number;
  /** Requests written and not yet answered. */
  readonly inFlight: number;
  /** Writes a request; `callback` gets exactly one reply or error. Returns the scheduler's `now()` at the send. */
  send(request: Request, callback: LinkCallback): number;
  /**
   * An enqueue and its wait, the wait read only once the enqueue was answered; `onSecond` is not
   * called (or its answer is to be ignored) unless the enqueue queued. Returns the send time.
   */
  sendPair(first: Request, onFirst: LinkCallback, second: Request, onSecond: LinkCallback): number;
  /** Keeps the server from dropping the link for silence while nothing else is sent. */
  heartbeat(): void;
  /** A lease now lives here; told at once if the link already ended. */
  hold(holder: LinkHolder): void;
  /** The lease no longer lives here. */
  unhold(holder: LinkHolder): void;
  /**
   * Takes this link's place in `key`'s queue back (the subscriber left while queued, or a wait
   * failed and left the place unknown). TCP closes the connection (the only way out of the
   * queue); HTTP aborts the long poll, or gives the place up with a zero-timeout wait.
   */
  leaveQueue(key: string, semaphore: boolean, reason: string): void;
  /** Drops the link at once (the client is closing): whatever it holds or queued is the server's to drop. */
  destroy(reason: string): void;
}

/** Where an acquisition gets its links: one server's pool (TCP) or an HTTP client's sessions. */
export interface LeaseTarget<L extends LeaseLink = LeaseLink> {
  /** The server's address, named in every error and report. */
  readonly server: string;
  /** A link for non-blocking requests, if one is at hand (the hot path: no Observable). */
  sharedNow(): L | undefined;
  /** Emits a link for non-blocking requests once open, then completes. */
  shared(): Observable<L>;
  /** A link lent to one acquisition that may block, if one is at hand. */
  dedicatedNow(): L | undefined;
  /** Emits a link lent to one acquisition that may block, then completes. */
  dedicated(): Observable<L>;
  /** Takes a lent link back (`share = false`: keep it only while a lease lives on it). */
  adopt(link: L, share?: boolean): void;
}

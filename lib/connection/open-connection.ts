import type * as tls from 'node:tls';
import { Observable, SchedulerLike } from 'rxjs';
import { AuthError, ConnectTimeoutError, ConnectionError, DflockdError } from '../errors.js';
import { CLIENT_DEFAULTS } from '../options.js';
import { authRequest } from '../protocol/commands.js';
import { monotonicScheduler } from '../scheduler.js';
import { checkToken } from '../protocol/validate.js';
import { connectLineSocket, requireTcp } from '../transport/line-socket.js';
import { Connection } from './connection.js';

/** How to open and authenticate one connection. */
export interface OpenConnectionOptions {
  /** Server host name or address. */
  readonly host: string;
  /** Server TCP port. */
  readonly port: number;
  /** TLS options; plain TCP when absent. */
  readonly tls?: tls.ConnectionOptions | undefined;
  /** Sent as the first request; the server refusing it fails the open with {@link AuthError}. */
  readonly authToken?: string | undefined;
  /** Bound on TCP connect + TLS handshake + auth, in seconds. */
  readonly connectTimeoutS: number;
}

/** What the opened {@link Connection} runs on: its clock and watchdog timer, and the watchdog's bound. */
export interface ConnectionTiming {
  /** Clock and timers of the connection (see `ClientOptions.scheduler`). @default monotonicScheduler */
  readonly scheduler: SchedulerLike;
  /** Reply watchdog bound in ms (`requestTimeoutS × 1000`). @default 10000 (requestTimeoutS 10) */
  readonly requestTimeoutMs: number;
}

/**
 * Opens a socket, authenticates if a token is set, and emits the ready {@link Connection} once.
 * `connectTimeoutS` bounds all of it: a stalled TCP connect, TLS handshake or auth reply fails
 * with `ConnectTimeoutError` (code `CONNECT_TIMEOUT`). A refused token fails with `AuthError`
 * and the connection is destroyed (never reused). Unsubscribing before the emission abandons
 * the attempt; afterwards the connection lives on its own until closed.
 *
 * @example
 * ```ts
 * openConnection({ host: '127.0.0.1', port: 6388, connectTimeoutS: 10, scheduler: monotonicScheduler, requestTimeoutMs: 10_000 })
 *   .subscribe((conn) => conn.request$(statsRequest()).subscribe(console.log));
 * ```
 */
export function openConnection(options: OpenConnectionOptions & Partial<ConnectionTiming>): Observable<Connection> {
  requireTcp('connect()');
  if (options.authToken !== undefined) checkToken(options.authToken, 'authToken');
  return new Observable<Connection>((subscriber) => {
    const server = `${options.host}:${options.port}`;
    const scheduler = options.scheduler ?? monotonicScheduler;
    const requestTimeoutMs = options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutS * 1000;
    let connection: Connection | undefined;
    // Set once the outcome is decided: the error (or the connection) goes out before any
    // teardown whose side effects (a destroyed socket failing the auth request) could race it.
    let settled = false;
    const timedOut = (): ConnectTimeoutError =>
      new ConnectTimeoutError(`connect to ${server} (TCP, TLS and auth) took longer than connectTimeoutS=${options.connectTimeoutS}; raise connectTimeoutS or check the server`, {
        server,
        command: 'connect',
      });
    const failWith = (error: DflockdError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      subscriber.error(error);
      connection?.destroy(error instanceof AuthError ? 'refused the auth token' : 'failed while connecting');
      socketSubscription.unsubscribe();
    };
    const timer = setTimeout(() => failWith(timedOut()), options.connectTimeoutS * 1000);
    timer.unref();
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      subscriber.next(connection!);
      subscriber.complete();
    };
    const socketSubscription = connectLineSocket({ host: options.host, port: options.port, tls: options.tls, connectTimeoutS: options.connectTimeoutS }).subscribe({
      next: (socket) => {
        const conn = new Connection(socket, { server, scheduler, requestTimeoutMs });
        connection = conn;
        // The socket Observable's teardown would destroy the socket: keep it subscribed for the
        // connection's life (after a graceful close it leaves the socket to finish on its own).
        conn.onClose(() => socketSubscription.unsubscribe());
        if (options.authToken === undefined) {
          finish();
          return;
        }
        conn.send(authRequest(options.authToken), (error) => {
          // `error` without more means the server has no token configured: no auth needed.
          if (error === undefined || error.code === 'error') finish();
          else if (error.code === 'error_auth') failWith(new AuthError(`${server} refused the auth token: check authToken (or DFLOCKD_AUTH_TOKEN)`, { server, command: 'auth', cause: error }));
          // Nobody answered the auth: still connecting, as far as the caller is concerned.
          else if (conn.unanswered) {
            failWith(
              new ConnectTimeoutError(`connect to ${server}: auth got no reply within requestTimeoutS=${requestTimeoutMs / 1000}; check the server`, {
                server,
                command: 'auth',
                cause: error,
              }),
            );
          }
          else if (error instanceof ConnectionError) failWith(new ConnectionError(`connect to ${server} failed during auth: ${error.message}`, { server, command: 'auth', cause: error }));
          else failWith(error);
        });
      },
      error: (error: DflockdError) => failWith(error),
    });
    return () => {
      clearTimeout(timer);
      if (!settled) {
        settled = true;
        connection?.destroy('abandoned before it was ready');
        socketSubscription.unsubscribe();
      }
    };
  });
}

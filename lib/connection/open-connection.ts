import { performance } from 'node:perf_hooks';
import type * as tls from 'node:tls';
import { Observable } from 'rxjs';
import { AuthError, ConnectTimeoutError, DflockdError } from '../errors.js';
import { authRequest } from '../protocol/commands.js';
import { checkToken } from '../protocol/validate.js';
import { connectLineSocket } from '../transport/line-socket.js';
import { Connection } from './connection.js';

/** How to open and authenticate one connection. */
export interface OpenConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: tls.ConnectionOptions | undefined;
  readonly authToken?: string | undefined;
  /** Bound on connect + TLS handshake + auth, in seconds. */
  readonly connectTimeoutS: number;
  /** Monotonic clock in ms. @default performance.now */
  readonly now?: () => number;
}

/**
 * Opens a socket, authenticates if a token is set, and emits the ready {@link Connection} once.
 * Unsubscribing before that abandons the attempt; afterwards the connection lives on its own
 * until closed.
 */
export function openConnection(options: OpenConnectionOptions): Observable<Connection> {
  if (options.authToken !== undefined) checkToken(options.authToken, 'authToken');
  return new Observable<Connection>((subscriber) => {
    const server = `${options.host}:${options.port}`;
    let connection: Connection | undefined;
    let ready = false;
    const timer = setTimeout(() => {
      connection?.destroy('timed out during auth');
      socketSubscription.unsubscribe();
      subscriber.error(new ConnectTimeoutError(`connect to ${server} (TCP, TLS and auth) took longer than connectTimeoutS=${options.connectTimeoutS}; raise connectTimeoutS or check the server`, { server, command: 'connect' }));
    }, options.connectTimeoutS * 1000);
    timer.unref();
    const finish = (): void => {
      clearTimeout(timer);
      ready = true;
      subscriber.next(connection!);
      subscriber.complete();
    };
    const socketSubscription = connectLineSocket({ host: options.host, port: options.port, tls: options.tls, connectTimeoutS: options.connectTimeoutS }).subscribe({
      next: (socket) => {
        const conn = new Connection(socket, server, options.now ?? (() => performance.now()));
        connection = conn;
        // The socket Observable's teardown destroys the socket: keep it subscribed for the connection's life.
        conn.onClose(() => socketSubscription.unsubscribe());
        if (options.authToken === undefined) {
          finish();
          return;
        }
        conn.send(authRequest(options.authToken), (error) => {
          // `error` without more means the server has no token configured: no auth needed.
          if (error === undefined || error.code === 'error') finish();
          else {
            clearTimeout(timer);
            conn.destroy('refused the auth token');
            subscriber.error(error.code === 'error_auth' ? new AuthError(`${server} refused the auth token: check authToken (or DFLOCKD_AUTH_TOKEN)`, { server, command: 'auth', cause: error }) : error);
          }
        });
      },
      error: (error: DflockdError) => {
        clearTimeout(timer);
        subscriber.error(error);
      },
    });
    return () => {
      clearTimeout(timer);
      if (!ready) {
        connection?.destroy('abandoned before it was ready');
        socketSubscription.unsubscribe();
      }
    };
  });
}

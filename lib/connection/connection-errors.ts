/**
 * The errors a {@link Connection} raises when it ends, worded in one place: each names the
 * server, and for a request its verb and key (none for keyless `auth`/`stats`/`ping`).
 *
 * @module
 * @internal
 */
import { ConnectionError, DflockdError, DrainingError, ProtocolError, describeContext } from '../errors.js';
import { Request, blockingMs, keyOf } from '../protocol/commands.js';

/** The server closed the connection; before any reply that usually means a refusal, not a crash. */
export function closedByServer(server: string, answered: boolean): ConnectionError {
  return new ConnectionError(
    answered
      ? `connection to ${server} closed by the server`
      : `connection to ${server} closed by the server before any reply: is it at --max-connections, does it expect TLS, or is this the wrong port?`,
    { server },
  );
}

/** The head request `request` went unanswered past its deadline: the connection is broken. */
export function noReply(server: string, request: Request, requestTimeoutMs: number): ConnectionError {
  const key = keyOf(request);
  const what = describeContext({ key, command: request.verb });
  const beyond = request.blocking ? `, beyond its own ${blockingMs(request) / 1000} s` : '';
  return new ConnectionError(`connection to ${server} is broken: no reply within requestTimeoutS=${requestTimeoutMs / 1000} (to ${what}${beyond}); the connection was destroyed`, {
    server,
    key,
    command: request.verb,
  });
}

/** After `error_draining`, whatever ends the connection is the server shutting down (`cause`: how it ended). */
export function drained(server: string, cause: DflockdError): DrainingError {
  return new DrainingError(`connection to ${server} ended while the server was shutting down (error_draining): ${cause.message}`, { server, cause });
}

/**
 * What a request still pending gets when its connection ends with `error`: the same kind of
 * error (a garbled stream stays a protocol error, a drain a drain), worded for the request.
 */
export function pendingFailed(server: string, request: Request, error: DflockdError): DflockdError {
  const context = { key: keyOf(request), command: request.verb, server, cause: error };
  const message = `${describeContext(context)}: ${error.message}`;
  if (error instanceof ProtocolError) return new ProtocolError(message, context);
  if (error instanceof DrainingError) return new DrainingError(message, context);
  return new ConnectionError(message, context);
}

/**
 * The HTTP API's error answers (PROTOCOL.md §3.4): a status, a stable code and
 * an optional detail, and the one table that turns the TCP statuses the
 * command handlers answer with into them.
 *
 * @module
 */

/** A non-2xx answer: written as `{"error": code, "detail"?: …}`. */
export class HttpFailure extends Error {
  override readonly name = 'HttpFailure';

  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail?: string,
    /** Extra response headers (`Allow` on a 405). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail ?? code);
  }

  /** The JSON body as a value. */
  payload(): { error: string; detail?: string } {
    return this.detail === undefined ? { error: this.code } : { error: this.code, detail: this.detail };
  }
}

/** `400 bad_request` with a detail naming what was wrong. */
export function badRequest(detail: string): HttpFailure {
  return new HttpFailure(400, 'bad_request', detail);
}

// The TCP statuses a lock call can end with, as dflockd 2.x's HTTP handlers answer them.
const BY_STATUS: Readonly<Record<string, readonly [number, string, string?]>> = {
  error_limit_mismatch: [409, 'limit_mismatch', 'limit mismatch for key'],
  error_already_enqueued: [409, 'already_enqueued', 'already enqueued on this key'],
  error_not_enqueued: [409, 'not_enqueued', 'not enqueued on this key'],
  error_lease_expired: [409, 'lease_expired', 'the lease expired before it was collected'],
  error_max_locks: [503, 'max_locks', 'too many keys'],
  error_max_waiters: [503, 'max_waiters', 'too many waiters on this key'],
  error_draining: [503, 'draining', 'the server is shutting down'],
};

/**
 * The failure for a TCP status line (without LF). A plain `error` on a lock
 * call means the server began draining while it was blocked (the request was
 * validated before it reached the handlers), hence `503 draining`.
 */
export function failureOf(status: string, semaphore: boolean): HttpFailure {
  const entry = BY_STATUS[status];
  if (!entry) return new HttpFailure(503, 'draining', 'the server is shutting down');
  const detail = entry[0] === 409 && status === 'error_limit_mismatch' ? `limit mismatch for ${semaphore ? 'semaphore' : 'lock'} key` : entry[2];
  return new HttpFailure(entry[0], entry[1], detail);
}

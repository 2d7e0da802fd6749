/**
 * The dflockd wire requests of the lease layer, spoken over dflockd 2.x's HTTP API (PROTOCOL.md
 * Part 3): a {@link Request} becomes a method, a path and a JSON body; a response becomes the same
 * parsed {@link Reply} or the same error class the TCP reply would have given. Pure: no I/O.
 *
 * @module
 */
import { ConnectionError, DflockdError, ErrorContext, ProtocolError, errorFromStatus } from '../errors.js';
import { Request, keyOf } from '../protocol/commands.js';
import type { Reply } from '../protocol/replies.js';

/** One HTTP call to make for a request. */
export interface HttpCall {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Path below the base URL, starting with `/`. */
  readonly path: string;
  /** The JSON body, if any. */
  readonly body: string | undefined;
  /**
   * Bound to the session that sends it (acquire, enqueue, wait): the server serves a session's
   * calls one at a time, and the session owns what they grant. Renew and release go by token.
   */
  readonly sessionBound: boolean;
}

/** A response as the mapping needs it: the status and the body text. */
export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
}

/** The HTTP error codes of dflockd 2.x that mean the same as a TCP status (PROTOCOL.md §3.4). */
const TCP_STATUS_OF: Readonly<Record<string, string>> = Object.freeze({
  unauthorized: 'error_auth',
  max_locks: 'error_max_locks',
  max_waiters: 'error_max_waiters',
  limit_mismatch: 'error_limit_mismatch',
  not_enqueued: 'error_not_enqueued',
  already_enqueued: 'error_already_enqueued',
  lease_expired: 'error_lease_expired',
  draining: 'error_draining',
  not_leader: 'error_not_leader',
  // TCP answers a release or renewal of a token it does not hold with a plain `error`.
  not_held: 'error',
  bad_request: 'error',
});

const base = (semaphore: boolean, key: string): string => `/v1/${semaphore ? 'semaphores' : 'locks'}/${encodeURIComponent(key)}`;

/** `"30 5"` → `[30, 5]`: the numeric fields of a wire argument (built by this package, never by a user). */
function numbers(arg: string): number[] {
  return arg === '' ? [] : arg.split(' ').map(Number);
}

/** The JSON body, with `lease_ttl_s` only when the request names one (the server's default otherwise). */
function json(fields: Record<string, number | string | undefined>): string {
  const out: Record<string, number | string> = {};
  for (const name in fields) if (fields[name] !== undefined) out[name] = fields[name]!;
  return JSON.stringify(out);
}

/** The HTTP call for a wire request (`ping` and session calls are the session's own). */
export function httpCallFor(request: Request): HttpCall {
  const key = request.key;
  switch (request.name) {
    case 'lock':
    case 'semLock': {
      const semaphore = request.name === 'semLock';
      const n = numbers(request.arg);
      const body = semaphore ? json({ acquire_timeout_s: n[0], limit: n[1], lease_ttl_s: n[2] }) : json({ acquire_timeout_s: n[0], lease_ttl_s: n[1] });
      return { method: 'POST', path: base(semaphore, key), body, sessionBound: true };
    }
    case 'enqueue':
    case 'semEnqueue': {
      const semaphore = request.name === 'semEnqueue';
      const n = numbers(request.arg);
      const body = semaphore ? json({ limit: n[0], lease_ttl_s: n[1] }) : json({ lease_ttl_s: n[0] });
      return { method: 'POST', path: `${base(semaphore, key)}/enqueue`, body, sessionBound: true };
    }
    case 'wait':
    case 'semWait':
      return { method: 'POST', path: `${base(request.name === 'semWait', key)}/wait`, body: json({ timeout_s: Number(request.arg) }), sessionBound: true };
    case 'renew':
    case 'semRenew': {
      const [token, lease] = request.arg.split(' ');
      return {
        method: 'POST',
        path: `${base(request.name === 'semRenew', key)}/renew`,
        body: json({ token, lease_ttl_s: lease === undefined ? undefined : Number(lease) }),
        sessionBound: false,
      };
    }
    case 'release':
    case 'semRelease':
      return { method: 'POST', path: `${base(request.name === 'semRelease', key)}/release`, body: json({ token: request.arg }), sessionBound: false };
    case 'stats':
      return { method: 'GET', path: '/v1/stats', body: undefined, sessionBound: false };
    case 'ping':
    case 'auth':
      // The session pings itself; auth is a header on every call.
      throw new ProtocolError(`${request.name} has no HTTP call of its own`);
  }
}

/** `{"error": code, "detail": …}` of a non-2xx answer, or what is known without it. */
function errorBody(text: string): { code: string | undefined; detail: string | undefined } {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null) {
      const { error, detail } = body as { error?: unknown; detail?: unknown };
      return { code: typeof error === 'string' ? error : undefined, detail: typeof detail === 'string' ? detail : undefined };
    }
  } catch {
    // Not JSON (a proxy's error page): only the status is known.
  }
  return { code: undefined, detail: undefined };
}

/** The error for a non-2xx answer, as the same class the TCP status would give. */
export function httpError(answer: HttpAnswer, context: ErrorContext): DflockdError {
  const { code, detail } = errorBody(answer.text);
  const what = code === undefined ? `HTTP ${answer.status}` : `HTTP ${answer.status} ${code}`;
  if (code === 'session_gone') {
    return new ConnectionError(`${describe(context)}: the server ended the session (${what}${detail ? `: ${detail}` : ''}); what it held is released`, context);
  }
  if (answer.status === 401) return errorFromStatus('error_auth', detail ?? what, context);
  const status = code === undefined ? undefined : (TCP_STATUS_OF[code] ?? `error_${code}`);
  if (status === undefined) {
    // A gateway's 502/504 or a proxy's page: the server was not reached, as a broken connection.
    if (answer.status >= 500) return new ConnectionError(`${describe(context)}: ${what} from ${context.server} (no dflockd error body: a proxy or gateway?)`, context);
    return new ProtocolError(`${describe(context)}: unexpected ${what} ${JSON.stringify(answer.text.slice(0, 120))}`, context);
  }
  return errorFromStatus(status, detail ?? what, context);
}

/** Reads a 2xx answer to `request` as the reply TCP would have given, or the error it means. */
export function replyFor(request: Request, answer: HttpAnswer, context: ErrorContext): Reply | DflockdError {
  if (answer.status < 200 || answer.status > 299) return httpError(answer, context);
  if (request.name === 'release' || request.name === 'semRelease') return OK;
  let body: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(answer.text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TypeError('not an object');
    body = parsed as Record<string, unknown>;
  } catch {
    return new ProtocolError(`${describe(context)}: HTTP ${answer.status} with a body that is no JSON object: ${JSON.stringify(answer.text.slice(0, 120))}`, context);
  }
  const bad = (): ProtocolError => new ProtocolError(`${describe(context)}: unexpected answer ${JSON.stringify(answer.text.slice(0, 120))}`, context);
  switch (request.name) {
    case 'lock':
    case 'semLock':
    case 'wait':
    case 'semWait':
      if (body['status'] === 'timeout') return errorFromStatus('timeout', undefined, context);
      return body['status'] === 'ok' ? (grant('granted', body) ?? bad()) : bad();
    case 'enqueue':
    case 'semEnqueue':
      if (body['status'] === 'queued') return QUEUED;
      return body['status'] === 'acquired' ? (grant('acquired', body) ?? bad()) : bad();
    case 'renew':
    case 'semRenew': {
      const leaseS = body['remaining_s'];
      return isSeconds(leaseS) ? { kind: 'renewed', leaseS } : bad();
    }
    case 'stats':
      return { kind: 'stats', json: body };
    default:
      return bad();
  }
}

const OK: Reply = Object.freeze({ kind: 'ok' });
const QUEUED: Reply = Object.freeze({ kind: 'queued' });
const TOKEN = /^[0-9a-f]{1,256}$/i;

function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function grant(kind: 'granted' | 'acquired', body: Record<string, unknown>): Reply | undefined {
  const token = body['token'];
  const leaseS = body['lease_ttl_s'];
  return typeof token === 'string' && TOKEN.test(token) && isSeconds(leaseS) ? { kind, token, leaseS } : undefined;
}

/** The error context of a request on `server`. */
export function contextOf(request: Request, server: string, cause?: unknown): ErrorContext {
  return { key: keyOf(request), command: request.verb, server, cause };
}

function describe(context: ErrorContext): string {
  return `${context.key !== undefined ? `key "${context.key}" ` : ''}${context.command ?? 'request'}${context.server ? ` on ${context.server}` : ''}`;
}

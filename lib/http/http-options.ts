/**
 * Options of {@link DflockdHttpClient}, validated like `ClientOptions`: every error names the option.
 *
 * @module
 */
import type { SchedulerLike } from 'rxjs';
import { InvalidArgumentError } from '../errors.js';
import { checkPositiveSeconds, checkRatio } from '../protocol/validate.js';
import { monotonicScheduler } from '../scheduler.js';
import type { HttpFetch } from './http-transport.js';

/** Options of `new DflockdHttpClient(…)`. */
export interface HttpClientOptions {
  /**
   * The server's HTTP API base URL (`--http-port`, 6389 by convention): `http://host:6389`, or
   * `https://…` when the server has `--tls-cert`; a path prefix is kept (a reverse proxy).
   * No credentials, query or fragment.
   */
  readonly url: string;
  /** Sent as `Authorization: Bearer …` on every request (never in the URL). @default undefined (no auth) */
  readonly authToken?: string;
  /** The `fetch` to use. @default globalThis.fetch (bound to globalThis) */
  readonly fetch?: HttpFetch;
  /** Bound on creating a session, in seconds: `ConnectTimeoutError` beyond it. @default 10 */
  readonly connectTimeoutS?: number;
  /** Renew after `lease × renewRatio` seconds; in (0, 1). @default 0.5 */
  readonly renewRatio?: number;
  /** `acquired` and `renewed` carry the token's fence as `fence: bigint` (servers ≥ 2.1). @default false */
  readonly fencing?: boolean;
  /**
   * Seconds a request may go unanswered before it is aborted and fails with `ConnectionError`
   * (an acquire or wait long poll is allowed its own timeout on top). Number > 0. @default 10
   */
  readonly requestTimeoutS?: number;
  /** Where time comes from (`now()` and every timer); a `VirtualTimeScheduler` for tests. @default monotonicScheduler */
  readonly scheduler?: SchedulerLike;
}

/** {@link HttpClientOptions} after validation, every field filled. */
export interface ResolvedHttpClientOptions {
  /** The base URL without a trailing slash. */
  readonly url: string;
  readonly authToken: string | undefined;
  readonly fetch: HttpFetch;
  readonly connectTimeoutS: number;
  readonly renewRatio: number;
  readonly fencing: boolean;
  readonly requestTimeoutS: number;
  readonly scheduler: SchedulerLike;
}

/** The HTTP client defaults, frozen. */
export const HTTP_CLIENT_DEFAULTS = Object.freeze({ connectTimeoutS: 10, renewRatio: 0.5, fencing: false, requestTimeoutS: 10 });

/** Header values may not hold control characters; a token is one word (as on TCP), up to 64 KiB. */
const TOKEN = /^[\x21-\x7e]{1,65536}$/;

/** Validates the options, naming the first bad one in an {@link InvalidArgumentError}. */
export function resolveHttpClientOptions(options: HttpClientOptions): ResolvedHttpClientOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object with at least { url }');
  const { authToken, fetch, fencing, scheduler } = options;
  if (authToken !== undefined && (typeof authToken !== 'string' || !TOKEN.test(authToken))) {
    throw new InvalidArgumentError('authToken', 'must be a non-empty string of printable ASCII without spaces');
  }
  if (fetch !== undefined && typeof fetch !== 'function') throw new InvalidArgumentError('fetch', 'must be a function with the shape of fetch(url, init)');
  const fetchFn = fetch ?? defaultFetch();
  if (fencing !== undefined && typeof fencing !== 'boolean') throw new InvalidArgumentError('fencing', `must be true or false, got ${String(fencing)}`);
  if (scheduler !== undefined && (typeof scheduler !== 'object' || scheduler === null || typeof scheduler.now !== 'function' || typeof scheduler.schedule !== 'function')) {
    throw new InvalidArgumentError('scheduler', 'must be an RxJS SchedulerLike (with now() and schedule())');
  }
  return Object.freeze({
    url: checkUrl(options.url),
    authToken,
    fetch: fetchFn,
    connectTimeoutS: options.connectTimeoutS === undefined ? HTTP_CLIENT_DEFAULTS.connectTimeoutS : checkPositiveSeconds(options.connectTimeoutS, 'connectTimeoutS'),
    renewRatio: options.renewRatio === undefined ? HTTP_CLIENT_DEFAULTS.renewRatio : checkRatio(options.renewRatio, 'renewRatio'),
    fencing: fencing ?? HTTP_CLIENT_DEFAULTS.fencing,
    requestTimeoutS: options.requestTimeoutS === undefined ? HTTP_CLIENT_DEFAULTS.requestTimeoutS : checkPositiveSeconds(options.requestTimeoutS, 'requestTimeoutS'),
    scheduler: scheduler ?? monotonicScheduler,
  });
}

function defaultFetch(): HttpFetch {
  const global = (globalThis as { fetch?: unknown }).fetch;
  if (typeof global !== 'function') throw new InvalidArgumentError('fetch', 'this runtime has no global fetch: pass one (e.g. from undici)');
  // Bound: a browser's fetch called with another `this` throws "Illegal invocation".
  return (global as HttpFetch).bind(globalThis);
}

function checkUrl(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidArgumentError('url', `must be the server's HTTP API URL such as "http://127.0.0.1:6389", got ${String(value)}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('url', `is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('url', `must be http: or https:, got ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw new InvalidArgumentError('url', 'must not hold credentials: pass the token as authToken (it is sent as a Bearer header)');
  if (url.search !== '' || url.hash !== '') throw new InvalidArgumentError('url', `must not have a query or fragment, got ${JSON.stringify(value)}`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

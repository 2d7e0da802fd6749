/**
 * Options of {@link DflockdTestServer}: the dflockd flag names in camelCase,
 * the `compat` mode, their defaults, and the one function that validates them.
 *
 * @module
 */

import { COMPAT_MODES, type CompatMode } from './compat.js';

/**
 * Configuration of an in-process dflockd-compatible server.
 *
 * Every field mirrors the dflockd flag of the same name (`defaultLeaseTtl` is
 * `--default-lease-ttl`). Times are in seconds like dflockd's flags, but may be
 * fractional so that tests can use sub-second timeouts and sweeps. Lease lengths
 * on the wire stay whole seconds, so a fractional `defaultLeaseTtl` is reported
 * truncated in `ok <token> <lease>` replies, exactly as dflockd would truncate it.
 *
 * @example
 * ```ts
 * const server = new DflockdTestServer({ port: 0, readTimeout: 1, leaseSweepInterval: 0.1 });
 * const port = await server.start();
 * ```
 */
export interface DflockdTestServerOptions {
  /** TCP port; `0` binds any free port (read it back from `start()` or `port`). @default 6388 */
  port?: number;
  /** Bind address. @default '127.0.0.1' */
  host?: string;
  /** Lease, in seconds, when a request names none (also the renew default). @default 33 */
  defaultLeaseTtl?: number;
  /** Per-line read deadline in seconds; an idle connection gets `error` and is closed. @default 23 */
  readTimeout?: number;
  /** Seconds a response write may stay blocked by a client that does not read; `0` disables. @default 5 */
  writeTimeout?: number;
  /** Maximum number of keys (held, waited on, or idle but not yet collected). @default 1024 */
  maxLocks?: number;
  /** Maximum queued waiters per key; `0` is unlimited. @default 0 */
  maxWaiters?: number;
  /** Maximum concurrent connections; extra ones are accepted and closed at once. `0` is unlimited. @default 0 */
  maxConnections?: number;
  /** Shared secret every connection must present with `auth` first. Unset or `''` disables auth. */
  authToken?: string;
  /** Path of the PEM certificate (chain); with `tlsKey` the whole listener speaks TLS. */
  tlsCert?: string;
  /** Path of the PEM private key matching `tlsCert`. */
  tlsKey?: string;
  /** Seconds between lease-expiry sweeps. @default 1 */
  leaseSweepInterval?: number;
  /** Seconds between idle-key collections. @default 5 */
  gcInterval?: number;
  /** Seconds a key must be idle (no holders, no waiters) before it is collected. @default 60 */
  gcMaxIdle?: number;
  /** Seconds a graceful stop waits for connections before force-closing them; `0` waits forever. @default 30 */
  shutdownTimeout?: number;
  /**
   * Release a connection's locks when it disconnects. In `'1.10'` its waiters are only
   * dropped when this is on; in `'2.1'` they are always dropped. @default true
   */
  autoReleaseOnDisconnect?: boolean;
  /**
   * The dflockd release line to reproduce: `'2.1'` (v2.1.1: `ping`, separate lock and
   * semaphore key spaces, fencing tokens, `error_draining`, …) or `'1.10'` (v1.10.0
   * exactly, bugs included). See PROTOCOL.md Part 2. @default '2.1'
   */
  compat?: CompatMode;
  /**
   * A two-phase `w` whose queued grant expired (and was swept) before the `w` returns
   * that stale token, as dflockd v1.10.0 did (PROTOCOL.md §1.4.5), instead of
   * `error_lease_expired`. @default true in `'1.10'`, false in `'2.1'`
   */
  staleTokenOnWait?: boolean;
  /**
   * Port of the HTTP API (dflockd 2.x, PROTOCOL.md Part 3); `0` binds any free
   * port (read it back from `httpPort` after `start()`). Absent: no HTTP listener.
   */
  httpPort?: number;
  /** Bind address of the HTTP listener. @default the value of `host` */
  httpHost?: string;
  /**
   * Origins allowed to call the HTTP API from a browser: an array, `'*'`, or one string as
   * dflockd's flag takes it (`'https://a.example,http://localhost:4200'`). Absent or empty: CORS off.
   */
  httpCorsAllowedOrigins?: readonly string[] | string;
  /** Seconds an HTTP session may go unseen; it is reaped after twice this. @default 20 */
  httpSessionIdleTimeout?: number;
}

/** Options after defaults and validation; times converted to milliseconds where the server needs them. */
export interface ResolvedServerOptions {
  readonly port: number;
  readonly host: string;
  readonly defaultLeaseTtl: number;
  readonly readTimeout: number;
  readonly writeTimeout: number;
  readonly maxLocks: number;
  readonly maxWaiters: number;
  readonly maxConnections: number;
  readonly authToken: string | undefined;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly leaseSweepInterval: number;
  readonly gcInterval: number;
  readonly gcMaxIdle: number;
  readonly shutdownTimeout: number;
  readonly autoReleaseOnDisconnect: boolean;
  readonly compat: CompatMode;
  /** Undefined: the mode's own rule. */
  readonly staleTokenOnWait: boolean | undefined;
  /** Undefined when there is no HTTP listener. */
  readonly httpPort: number | undefined;
  readonly httpHost: string;
  /** Empty when CORS is off. */
  readonly httpCorsAllowedOrigins: readonly string[] | '*';
  readonly httpSessionIdleTimeout: number;
}

/** dflockd v1.10 defaults, frozen so no caller can change them for everyone. */
export const SERVER_DEFAULTS = Object.freeze({
  port: 6388,
  host: '127.0.0.1',
  defaultLeaseTtl: 33,
  readTimeout: 23,
  writeTimeout: 5,
  maxLocks: 1024,
  maxWaiters: 0,
  maxConnections: 0,
  leaseSweepInterval: 1,
  gcInterval: 5,
  gcMaxIdle: 60,
  shutdownTimeout: 30,
  autoReleaseOnDisconnect: true,
  compat: '2.1' as CompatMode,
  httpSessionIdleTimeout: 20,
});

// dflockd multiplies seconds by 1e9 into an int64; beyond this the value wraps.
// Server-side settings refuse such values instead of emulating the wrap.
const MAX_SECONDS = 9_223_372_036;

type Rule = 'positive' | 'nonNegative';

function seconds(name: string, value: number | undefined, fallback: number, rule: Rule): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value > MAX_SECONDS) {
    throw new RangeError(`DflockdTestServer: option ${name} must be a finite number of seconds (got ${String(value)})`);
  }
  if (rule === 'positive' ? value <= 0 : value < 0) {
    throw new RangeError(`DflockdTestServer: option ${name} must be ${rule === 'positive' ? '> 0' : '>= 0'} (got ${value})`);
  }
  return value;
}

function count(name: string, value: number | undefined, fallback: number, rule: Rule, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value > max) {
    throw new RangeError(`DflockdTestServer: option ${name} must be an integer${max < Number.MAX_SAFE_INTEGER ? ` <= ${max}` : ''} (got ${String(value)})`);
  }
  if (rule === 'positive' ? value <= 0 : value < 0) {
    throw new RangeError(`DflockdTestServer: option ${name} must be ${rule === 'positive' ? '> 0' : '>= 0'} (got ${value})`);
  }
  return value;
}

function optionalString(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new TypeError(`DflockdTestServer: option ${name} must be a string`);
  return value;
}

/**
 * dflockd's `--http-cors-allowed-origins` value: `'*'`, or origins separated by commas (spaces
 * around them and empty items dropped).
 * @internal
 */
export function parseOriginList(text: string): string[] | '*' {
  const trimmed = text.trim();
  return trimmed === '*' ? '*' : trimmed.split(',').map((o) => o.trim()).filter((o) => o !== '');
}

function corsOrigins(option: readonly string[] | string | undefined): readonly string[] | '*' {
  const value = typeof option === 'string' ? parseOriginList(option) : option;
  if (value === undefined || value === '*') return value ?? Object.freeze([]);
  if (!Array.isArray(value) || !value.every((o) => typeof o === 'string' && o !== '' && !/[\s,]/.test(o))) {
    throw new TypeError("DflockdTestServer: option httpCorsAllowedOrigins must be '*', an array of origins (non-empty strings without spaces or commas) or one string of them separated by commas");
  }
  return Object.freeze([...value]);
}

/**
 * Applies defaults and validates every option, throwing an error that names the
 * offending option (the same rules dflockd's `config.validate` enforces).
 */
export function resolveServerOptions(options: DflockdTestServerOptions = {}): ResolvedServerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('DflockdTestServer: options must be an object');
  }
  const host = options.host ?? SERVER_DEFAULTS.host;
  if (typeof host !== 'string' || host === '') {
    throw new TypeError(`DflockdTestServer: option host must be a non-empty string (got ${String(host)})`);
  }
  const authToken = optionalString('authToken', options.authToken);
  if (authToken !== undefined && /[\r\n]/.test(authToken)) {
    // A token with a line break could never arrive in one request line.
    throw new RangeError('DflockdTestServer: option authToken must not contain CR or LF');
  }
  const tlsCert = optionalString('tlsCert', options.tlsCert);
  const tlsKey = optionalString('tlsKey', options.tlsKey);
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new RangeError('DflockdTestServer: options tlsCert and tlsKey must be provided together');
  }
  const autoRelease = options.autoReleaseOnDisconnect ?? SERVER_DEFAULTS.autoReleaseOnDisconnect;
  if (typeof autoRelease !== 'boolean') {
    throw new TypeError('DflockdTestServer: option autoReleaseOnDisconnect must be a boolean');
  }
  const compat = options.compat ?? SERVER_DEFAULTS.compat;
  if (!COMPAT_MODES.includes(compat)) {
    throw new RangeError(`DflockdTestServer: option compat must be one of ${COMPAT_MODES.map((m) => `'${m}'`).join(', ')} (got ${String(compat)})`);
  }
  const stale = options.staleTokenOnWait;
  if (stale !== undefined && typeof stale !== 'boolean') {
    throw new TypeError('DflockdTestServer: option staleTokenOnWait must be a boolean');
  }
  // dflockd binds the HTTP API where the TCP listener is unless told otherwise.
  const httpHost = options.httpHost ?? host;
  if (typeof httpHost !== 'string' || httpHost === '') {
    throw new TypeError(`DflockdTestServer: option httpHost must be a non-empty string (got ${String(httpHost)})`);
  }
  const httpPort = options.httpPort === undefined ? undefined : count('httpPort', options.httpPort, 0, 'nonNegative', 65_535);
  // The HTTP API exists only in dflockd 2.x.
  if (httpPort !== undefined && compat === '1.10') {
    throw new RangeError("DflockdTestServer: option httpPort needs compat '2.1' (dflockd 1.10 has no HTTP API)");
  }
  return Object.freeze({
    port: count('port', options.port, SERVER_DEFAULTS.port, 'nonNegative', 65_535),
    host,
    defaultLeaseTtl: seconds('defaultLeaseTtl', options.defaultLeaseTtl, SERVER_DEFAULTS.defaultLeaseTtl, 'positive'),
    readTimeout: seconds('readTimeout', options.readTimeout, SERVER_DEFAULTS.readTimeout, 'positive'),
    writeTimeout: seconds('writeTimeout', options.writeTimeout, SERVER_DEFAULTS.writeTimeout, 'nonNegative'),
    maxLocks: count('maxLocks', options.maxLocks, SERVER_DEFAULTS.maxLocks, 'positive'),
    maxWaiters: count('maxWaiters', options.maxWaiters, SERVER_DEFAULTS.maxWaiters, 'nonNegative'),
    maxConnections: count('maxConnections', options.maxConnections, SERVER_DEFAULTS.maxConnections, 'nonNegative'),
    authToken,
    tlsCert,
    tlsKey,
    leaseSweepInterval: seconds('leaseSweepInterval', options.leaseSweepInterval, SERVER_DEFAULTS.leaseSweepInterval, 'positive'),
    gcInterval: seconds('gcInterval', options.gcInterval, SERVER_DEFAULTS.gcInterval, 'positive'),
    gcMaxIdle: seconds('gcMaxIdle', options.gcMaxIdle, SERVER_DEFAULTS.gcMaxIdle, 'positive'),
    shutdownTimeout: seconds('shutdownTimeout', options.shutdownTimeout, SERVER_DEFAULTS.shutdownTimeout, 'nonNegative'),
    autoReleaseOnDisconnect: autoRelease,
    compat,
    staleTokenOnWait: stale,
    httpPort,
    httpHost,
    httpCorsAllowedOrigins: corsOrigins(options.httpCorsAllowedOrigins),
    httpSessionIdleTimeout: seconds('httpSessionIdleTimeout', options.httpSessionIdleTimeout, SERVER_DEFAULTS.httpSessionIdleTimeout, 'positive'),
  });
}

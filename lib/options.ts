import type { SchedulerLike } from 'rxjs';
import type * as tls from 'node:tls';
import { InvalidArgumentError } from './errors.js';
import { checkInteger, checkPositiveSeconds, checkRatio, checkToken, describeValue } from './protocol/validate.js';
import { monotonicScheduler } from './scheduler.js';
import { stableHashShard } from './sharding.js';

// Lock options live in a transport-free module (dflockd-rx/http uses them too); re-exported here.
export { LOCK_DEFAULTS, resolveLockOptions } from './lock-options.js';
export type { LockOptions, ResolvedLockOptions } from './lock-options.js';

/** A server as `[host, port]`, `'host:port'` or `{ host, port }`. */
export type ServerSpec = readonly [host: string, port: number] | string | { readonly host: string; readonly port: number };

/** A normalised server address. */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

/** Picks the server index for a key; must return an integer in `[0, numServers)`. */
export type ShardingStrategy = (key: string, numServers: number) => number;

/** Options of {@link DflockdClient} (and of the Promise facade, which accepts them too). */
export interface ClientOptions {
  /**
   * One entry per dflockd server. Keys are spread over them with `shardingStrategy`.
   * @default [['127.0.0.1', 6388]]
   */
  readonly servers?: readonly ServerSpec[];
  /** Maps a key to a server index. @default stableHashShard (CRC-32, as the Python, Go and TS clients) */
  readonly shardingStrategy?: ShardingStrategy;
  /** TLS for every connection; verification stays on unless you set `rejectUnauthorized: false`. @default undefined (plain TCP) */
  readonly tls?: tls.ConnectionOptions;
  /** Sent as the first request of every connection. @default undefined (no auth) */
  readonly authToken?: string;
  /** Bound on TCP connect + TLS handshake + auth, in seconds. @default 10 */
  readonly connectTimeoutS?: number;
  /** Renew after `lease × renewRatio` seconds; in (0, 1). @default 0.5 */
  readonly renewRatio?: number;
  /**
   * The server's `--read-timeout` in seconds (≥ 1). The server drops (and auto-releases) a
   * connection silent that long, so every connection sends something well inside it (every 40% of it).
   * @default 23
   */
  readonly serverIdleTimeoutS?: number;
  /**
   * Seconds a non-blocking request (everything but a blocking `l`/`sl`/`w`/`sw`) may go unanswered
   * before its connection is declared broken: destroyed, its leases `lost` (`'disconnected'`) and
   * its pending requests failed with `ConnectionError`. A blocking request is allowed its own
   * timeout on top. Number > 0.
   * @default 10
   */
  readonly requestTimeoutS?: number;
  /**
   * Every held lease on a connection of its own, so that no two leases share a socket (the server
   * ties a hold to the connection that acquired it: a connection lost loses every lease on it).
   * @default false (leases share pipelined connections)
   */
  readonly dedicatedConnections?: boolean;
  /**
   * Servers ≥ 2.1 embed a fence in every token: with `fencing`, `acquired` and `renewed` carry it
   * as `fence: bigint` (see `fenceOf`).
   * @default false
   */
  readonly fencing?: boolean;
  /**
   * Most pipelined connections per server for non-blocking requests. More are opened only under
   * load: a lone connection carries up to 16 requests in flight, then each up to 8. @default 16
   */
  readonly maxSharedConnections?: number;
  /**
   * Where the client's time comes from: `now()` for every deadline and `schedule()` for every
   * timer (renewals, lease deadlines, acquire and request watchdogs). Pass a `TestScheduler` or
   * `VirtualTimeScheduler` to run leases on virtual time.
   * @default monotonicScheduler (asyncScheduler's contract, monotonic, timers unreferenced)
   */
  readonly scheduler?: SchedulerLike;
}

/** The client defaults, frozen. */
export const CLIENT_DEFAULTS = Object.freeze({
  servers: Object.freeze([Object.freeze({ host: '127.0.0.1', port: 6388 })]) as readonly ServerAddress[],
  connectTimeoutS: 10,
  renewRatio: 0.5,
  serverIdleTimeoutS: 23,
  requestTimeoutS: 10,
  dedicatedConnections: false,
  fencing: false,
  maxSharedConnections: 16,
});


/** Client options after validation, every field filled. */
export interface ResolvedClientOptions {
  readonly servers: readonly ServerAddress[];
  readonly shardingStrategy: ShardingStrategy;
  readonly tls: tls.ConnectionOptions | undefined;
  readonly authToken: string | undefined;
  readonly connectTimeoutS: number;
  readonly renewRatio: number;
  readonly serverIdleTimeoutS: number;
  readonly requestTimeoutS: number;
  readonly dedicatedConnections: boolean;
  readonly fencing: boolean;
  readonly maxSharedConnections: number;
  readonly scheduler: SchedulerLike;
}

/** Validates client options, naming the first bad one in an {@link InvalidArgumentError}. */
export function resolveClientOptions(options: ClientOptions = {}): ResolvedClientOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object');
  const strategy = options.shardingStrategy ?? stableHashShard;
  if (typeof strategy !== 'function') throw new InvalidArgumentError('shardingStrategy', 'must be a function (key, numServers) => index');
  if (options.tls !== undefined && (typeof options.tls !== 'object' || options.tls === null)) {
    throw new InvalidArgumentError('tls', 'must be a tls.ConnectionOptions object');
  }
  return Object.freeze({
    servers: resolveServers(options.servers),
    shardingStrategy: strategy,
    tls: options.tls,
    authToken: options.authToken === undefined ? undefined : checkToken(options.authToken, 'authToken'),
    connectTimeoutS: options.connectTimeoutS === undefined ? CLIENT_DEFAULTS.connectTimeoutS : checkPositiveSeconds(options.connectTimeoutS, 'connectTimeoutS'),
    renewRatio: options.renewRatio === undefined ? CLIENT_DEFAULTS.renewRatio : checkRatio(options.renewRatio, 'renewRatio'),
    // Below a second the renewal and ping intervals (shares of it) would be a few ms or less.
    serverIdleTimeoutS: options.serverIdleTimeoutS === undefined ? CLIENT_DEFAULTS.serverIdleTimeoutS : checkSecondsAtLeast(options.serverIdleTimeoutS, 'serverIdleTimeoutS', 1),
    requestTimeoutS: options.requestTimeoutS === undefined ? CLIENT_DEFAULTS.requestTimeoutS : checkPositiveSeconds(options.requestTimeoutS, 'requestTimeoutS'),
    dedicatedConnections: options.dedicatedConnections === undefined ? CLIENT_DEFAULTS.dedicatedConnections : checkBoolean(options.dedicatedConnections, 'dedicatedConnections'),
    fencing: options.fencing === undefined ? CLIENT_DEFAULTS.fencing : checkBoolean(options.fencing, 'fencing'),
    maxSharedConnections:
      options.maxSharedConnections === undefined ? CLIENT_DEFAULTS.maxSharedConnections : checkInteger(options.maxSharedConnections, 'maxSharedConnections', 1),
    scheduler: options.scheduler === undefined ? monotonicScheduler : checkScheduler(options.scheduler),
  });
}

/** Normalises the `servers` option; every entry must have a host and a port in 1…65535. */
export function resolveServers(servers: readonly ServerSpec[] | undefined): readonly ServerAddress[] {
  if (servers === undefined) return CLIENT_DEFAULTS.servers;
  if (!Array.isArray(servers) || servers.length === 0) throw new InvalidArgumentError('servers', 'must be a non-empty array of [host, port], "host:port" or {host, port}');
  return Object.freeze(servers.map((spec, i) => Object.freeze(parseServer(spec as ServerSpec, `servers[${i}]`))));
}

/** Parses one server spec (`'host:port'`, `'[::1]:6388'`, `[host, port]`, `{ host, port }`). */
export function parseServer(spec: ServerSpec, argument = 'server'): ServerAddress {
  let host: unknown;
  let port: unknown;
  if (typeof spec === 'string') {
    const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d+)$/.exec(spec.trim());
    if (m === null) throw new InvalidArgumentError(argument, `expected "host:port", got ${JSON.stringify(spec)}`);
    host = m[1] ?? m[2];
    port = Number(m[3]);
  } else if (Array.isArray(spec)) {
    [host, port] = spec as unknown[];
  } else if (typeof spec === 'object' && spec !== null) {
    ({ host, port } = spec as { host: unknown; port: unknown });
  } else {
    throw new InvalidArgumentError(argument, `expected [host, port], "host:port" or {host, port}, got ${String(spec)}`);
  }
  if (typeof host !== 'string' || host.length === 0 || /\s/.test(host)) throw new InvalidArgumentError(argument, `host must be a non-empty string without spaces, got ${JSON.stringify(host)}`);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError(argument, `port must be an integer in 1…65535, got ${String(port)}`);
  return { host, port };
}

function checkBoolean(value: unknown, argument: string): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgumentError(argument, `must be true or false, got ${describeValue(value)}`);
  return value;
}

function checkSecondsAtLeast(value: unknown, argument: string, min: number): number {
  const seconds = checkPositiveSeconds(value, argument);
  if (seconds < min) throw new InvalidArgumentError(argument, `must be at least ${min} second(s), got ${seconds}`);
  return seconds;
}

function checkScheduler(value: unknown): SchedulerLike {
  const s = value as Partial<SchedulerLike> | null;
  if (typeof s !== 'object' || s === null || typeof s.now !== 'function' || typeof s.schedule !== 'function') {
    throw new InvalidArgumentError('scheduler', 'must be an RxJS SchedulerLike (with now() and schedule()), such as asyncScheduler or a TestScheduler');
  }
  return s as SchedulerLike;
}

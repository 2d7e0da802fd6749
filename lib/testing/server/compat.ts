/**
 * The per-mode rule table of {@link DflockdTestServer}: every place where
 * dflockd v1.10.0 and v2.1.x answer differently is one field here, consulted
 * by the parser, the handlers, the connection and the server. Nothing else
 * compares mode names.
 *
 * @module
 */

/** The dflockd release line a test server reproduces. */
export type CompatMode = '2.1' | '1.10';

/** The modes {@link DflockdTestServer} accepts, newest first. */
export const COMPAT_MODES: readonly CompatMode[] = Object.freeze(['2.1', '1.10']);

/** What differs between the modes (PROTOCOL.md Part 2 lists the versions). */
export interface CompatRules {
  readonly mode: CompatMode;
  /** `ping` answers `ok` (v1.14+); otherwise it is an unknown command (`error`). */
  readonly ping: boolean;
  /**
   * Locks and semaphores live in separate key spaces (v1.14+): `l k` and `sl k 0 3`
   * are different resources, `r`/`w` reach only locks and `sr`/`sw` only semaphores,
   * and stats files a key by its kind, not by its limit.
   */
  readonly separateKeySpaces: boolean;
  /** A late `w` returns a token whose lease was already swept (the v1.10.0 bug, §1.4.5). */
  readonly staleTokenOnWait: boolean;
  /** A disconnect drops the connection's waiters and enqueues even with auto-release off (v1.15+). */
  readonly alwaysDropWaiters: boolean;
  /** A client that leaves while blocked in `l`/`sl`/`w`/`sw` is noticed and its waiter cancelled (v1.15+). */
  readonly watchPeerClose: boolean;
  /** Largest seconds value accepted, or `null`: no check, the nanosecond product wraps (v1.10.0). */
  readonly maxSeconds: bigint | null;
  /** `e` takes zero or one field (v2.0+); v1.10.0 reads the trimmed line as one integer or the default. */
  readonly strictEnqueueArgs: boolean;
  /** A request during a graceful stop gets `error_draining` and the connection closes (v1.16+). */
  readonly drainingStatus: boolean;
  /** Longest `auth` argument line in bytes (every other line stays at 256). */
  readonly authLineBytes: number;
  /** Tokens carry a 16-hex-digit fence prefix from one server-wide counter (v2.1+). */
  readonly fencedTokens: boolean;
  /**
   * A connection is counted when its handler starts, one event-loop turn after the
   * accept, so a burst of connects can overshoot `maxConnections` (v1.10.0; fixed in v1.10.1).
   */
  readonly lateConnectionCount: boolean;
}

// v1.15+ refuse what would overflow int64 nanoseconds: MaxInt64 / 1e9.
const MAX_SECONDS = 9_223_372_036n;

const RULES: Readonly<Record<CompatMode, CompatRules>> = Object.freeze({
  '2.1': Object.freeze({
    mode: '2.1',
    ping: true,
    separateKeySpaces: true,
    staleTokenOnWait: false,
    alwaysDropWaiters: true,
    watchPeerClose: true,
    maxSeconds: MAX_SECONDS,
    strictEnqueueArgs: true,
    drainingStatus: true,
    authLineBytes: 64 * 1024,
    fencedTokens: true,
    lateConnectionCount: false,
  }),
  '1.10': Object.freeze({
    mode: '1.10',
    ping: false,
    separateKeySpaces: false,
    staleTokenOnWait: true,
    alwaysDropWaiters: false,
    watchPeerClose: false,
    maxSeconds: null,
    strictEnqueueArgs: false,
    drainingStatus: false,
    authLineBytes: 256,
    fencedTokens: false,
    lateConnectionCount: true,
  }),
});

/** The rules of `mode`, with the explicitly set overrides applied. */
export function compatRules(mode: CompatMode, overrides: { readonly staleTokenOnWait?: boolean | undefined } = {}): CompatRules {
  const base = RULES[mode];
  if (overrides.staleTokenOnWait === undefined || overrides.staleTokenOnWait === base.staleTokenOnWait) return base;
  return Object.freeze({ ...base, staleTokenOnWait: overrides.staleTokenOnWait });
}

/** The two resource kinds; one key space each when {@link CompatRules.separateKeySpaces} holds. */
export type ResourceKind = 'lock' | 'semaphore';

/**
 * The table key of a resource: the wire key itself when locks and semaphores
 * share one space, else prefixed by kind as dflockd 1.14+ does internally.
 */
export function resourceId(rules: CompatRules, kind: ResourceKind, key: string): string {
  if (!rules.separateKeySpaces) return key;
  return kind === 'lock' ? `lock:${key}` : `sem:${key}`;
}

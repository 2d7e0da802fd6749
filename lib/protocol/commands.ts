import { checkInteger, checkKey, checkToken } from './validate.js';

/**
 * The wire verbs, named as this package names its commands. Read side by side with PROTOCOL.md §1.4.
 */
export const WIRE_VERBS = Object.freeze({
  lock: 'l',
  release: 'r',
  renew: 'n',
  enqueue: 'e',
  wait: 'w',
  semLock: 'sl',
  semRelease: 'sr',
  semRenew: 'sn',
  semEnqueue: 'se',
  semWait: 'sw',
  auth: 'auth',
  stats: 'stats',
  ping: 'ping',
} as const);

/** A command name of {@link WIRE_VERBS}. */
export type CommandName = keyof typeof WIRE_VERBS;

/** What a successful reply to a command looks like; anything else is an error status or a protocol error. */
export type ExpectedReply = 'grant' | 'enqueue' | 'renewed' | 'ok' | 'stats' | 'ping';

/** One request, validated and ready to frame: three lines `verb`, `key`, `arg`. */
export interface Request {
  /** The command name (`lock`, `semWait`, …). */
  readonly name: CommandName;
  /** The wire verb (`l`, `sw`, …). */
  readonly verb: string;
  /** Line 2. */
  readonly key: string;
  /** Line 3. */
  readonly arg: string;
  /** The reply shape that means success. */
  readonly expect: ExpectedReply;
  /** True when the server may block the connection while serving it (`l`/`sl`/`w`/`sw` with a timeout > 0). */
  readonly blocking: boolean;
}

function request(name: CommandName, key: string, arg: string, expect: ExpectedReply, blocking = false): Request {
  return { name, verb: WIRE_VERBS[name], key, arg, expect, blocking };
}

const checkLease = (leaseS: number | undefined): number | undefined => (leaseS === undefined ? undefined : checkInteger(leaseS, 'leaseTtlS', 1));

/** `l key timeout [lease]`: acquire a lock, blocking up to `timeoutS` (0 = try once). */
export function lockRequest(key: string, timeoutS: number, leaseS?: number): Request {
  const t = checkInteger(timeoutS, 'acquireTimeoutS', 0);
  return checkedAlready.lock(checkKey(key), t, checkLease(leaseS));
}

/** `sl key timeout limit [lease]`: acquire a semaphore slot. */
export function semLockRequest(key: string, timeoutS: number, limit: number, leaseS?: number): Request {
  const t = checkInteger(timeoutS, 'acquireTimeoutS', 0);
  return checkedAlready.semLock(checkKey(key), t, checkInteger(limit, 'limit', 1), checkLease(leaseS));
}

/** `r key token` / `sr key token`: release. */
export function releaseRequest(key: string, token: string, semaphore = false): Request {
  return checkedAlready.release(checkKey(key), checkToken(token), semaphore);
}

/** `n key token [lease]` / `sn …`: renew. Always pass the lease: a bare renew resets it to the server default. */
export function renewRequest(key: string, token: string, leaseS?: number, semaphore = false): Request {
  return checkedAlready.renew(checkKey(key), checkToken(token), checkLease(leaseS), semaphore);
}

/** `e key [lease]`: join the queue without blocking. */
export function enqueueRequest(key: string, leaseS?: number): Request {
  return checkedAlready.enqueue(checkKey(key), checkLease(leaseS));
}

/** `se key limit [lease]`: join a semaphore's queue without blocking. */
export function semEnqueueRequest(key: string, limit: number, leaseS?: number): Request {
  return checkedAlready.semEnqueue(checkKey(key), checkInteger(limit, 'limit', 1), checkLease(leaseS));
}

/** `w key timeout` / `sw …`: wait for the place taken by enqueue. */
export function waitRequest(key: string, timeoutS: number, semaphore = false): Request {
  const t = checkInteger(timeoutS, 'timeoutS', 0);
  return checkedAlready.wait(checkKey(key), t, semaphore);
}

const leaseArg = (leaseS: number | undefined): string => (leaseS === undefined ? '' : ` ${leaseS}`);

/**
 * The same wire forms for values checked once already: an acquisition's key when `lock()` or
 * `semaphore()` was called, its numbers when its options were resolved, tokens when the reply
 * parser accepted them. An acquisition sends up to four requests for one key; the lease layer
 * builds them here instead of scanning the key again for each. The builders above check, then
 * call these.
 */
export const checkedAlready = Object.freeze({
  /** `l key timeout [lease]`. */
  lock: (key: string, timeoutS: number, leaseS: number | undefined): Request => request('lock', key, `${timeoutS}${leaseArg(leaseS)}`, 'grant', timeoutS > 0),
  /** `sl key timeout limit [lease]`. */
  semLock: (key: string, timeoutS: number, limit: number, leaseS: number | undefined): Request =>
    request('semLock', key, `${timeoutS} ${limit}${leaseArg(leaseS)}`, 'grant', timeoutS > 0),
  /** `r key token` / `sr key token`. */
  release: (key: string, token: string, semaphore: boolean): Request => request(semaphore ? 'semRelease' : 'release', key, token, 'ok'),
  /** `n key token [lease]` / `sn …`. */
  renew: (key: string, token: string, leaseS: number | undefined, semaphore: boolean): Request =>
    request(semaphore ? 'semRenew' : 'renew', key, `${token}${leaseArg(leaseS)}`, 'renewed'),
  /** `e key [lease]`. */
  enqueue: (key: string, leaseS: number | undefined): Request => request('enqueue', key, leaseS === undefined ? '' : String(leaseS), 'enqueue'),
  /** `se key limit [lease]`. */
  semEnqueue: (key: string, limit: number, leaseS: number | undefined): Request => request('semEnqueue', key, `${limit}${leaseArg(leaseS)}`, 'enqueue'),
  /** `w key timeout` / `sw …`. */
  wait: (key: string, timeoutS: number, semaphore: boolean): Request => request(semaphore ? 'semWait' : 'wait', key, String(timeoutS), 'grant', timeoutS > 0),
});

/** Commands whose key line is a placeholder (`_`): no key is named in what is said about them. */
const KEYLESS: ReadonlySet<CommandName> = new Set<CommandName>(['auth', 'stats', 'ping']);

/** The key a request is about, or `undefined` for a keyless command (`auth`, `stats`, `ping`). */
export function keyOf(request: Request): string | undefined {
  return KEYLESS.has(request.name) ? undefined : request.key;
}

/**
 * How long (ms) the server may legitimately hold a blocking request before answering: its
 * timeout, the first field of its argument. 0 for a request that never blocks.
 */
export function blockingMs(request: Request): number {
  if (!request.blocking) return 0;
  const seconds = Number.parseInt(request.arg, 10);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

/** `auth _ token`: must be the first request when the server has a token. */
export function authRequest(token: string): Request {
  return request('auth', '_', checkToken(token, 'authToken'), 'ok');
}

/** `stats _ _`: a JSON snapshot of the server. */
export function statsRequest(): Request {
  return request('stats', '_', '', 'stats');
}

/** `ping _ _`: a heartbeat. dflockd ≥ 1.14 answers `ok`; 1.10 answers `error` but still counts it as traffic. */
export function pingRequest(): Request {
  return request('ping', '_', '', 'ping');
}

/**
 * The lock and semaphore endpoints (PROTOCOL.md §3.1): a checked body becomes
 * the TCP request it stands for (parsed by the lock core's parser, so both
 * front-ends get the same defaults and compat rules), runs in the core's
 * command handlers on behalf of a session, and its reply line becomes an HTTP answer.
 *
 * @module
 */

import type { CommandHandlers, RequestOrigin } from '../handlers.js';
import type { LockCore } from '../lock-core.js';
import type { Request } from '../request-parser.js';
import { HttpFailure, badRequest, failureOf } from './errors.js';
import { leaseSeconds as leaseField, limit, timeoutSeconds as timeoutField, token } from './fields.js';
import type { LockAction } from './router.js';
import type { Session } from './session-table.js';

/** An answer: a status and a JSON value, or a ready body (`text` is a latin1 byte string) with its type. */
export interface Answer {
  readonly status: number;
  readonly json?: unknown;
  readonly text?: string;
  readonly type?: string;
}

/** The fields each call's body may carry. */
export function allowedFields(action: LockAction, semaphore: boolean): readonly string[] {
  switch (action) {
    case 'acquire':
      return semaphore ? ['acquire_timeout_s', 'limit', 'lease_ttl_s'] : ['acquire_timeout_s', 'lease_ttl_s'];
    case 'release':
      return ['token'];
    case 'renew':
      return ['token', 'lease_ttl_s'];
    case 'enqueue':
      return semaphore ? ['limit', 'lease_ttl_s'] : ['lease_ttl_s'];
    case 'wait':
      return ['timeout_s'];
  }
}

const VERB: Readonly<Record<LockAction, readonly [lock: string, semaphore: string]>> = {
  acquire: ['l', 'sl'],
  release: ['r', 'sr'],
  renew: ['n', 'sn'],
  enqueue: ['e', 'se'],
  wait: ['w', 'sw'],
};

const optional = (n: number | undefined): string => (n === undefined ? '' : ` ${n}`);

/** One lock or semaphore call, checked and translated into its TCP request. */
export class LockCall {
  /** The TCP request it stands for. */
  readonly request: Request;

  constructor(
    core: Pick<LockCore, 'parser' | 'rules'>,
    readonly action: LockAction,
    readonly semaphore: boolean,
    readonly key: string,
    body: Record<string, unknown>,
  ) {
    const verb = VERB[action][semaphore ? 1 : 0]!;
    // The mode's seconds cap (the HTTP API exists only where there is one).
    const max = core.rules.maxSeconds === null ? Number.MAX_SAFE_INTEGER : Number(core.rules.maxSeconds);
    const timeoutSeconds = (name: 'acquire_timeout_s' | 'timeout_s'): number => timeoutField(body, name, max);
    const leaseSeconds = (): number | undefined => leaseField(body, max);
    let arg: string;
    switch (action) {
      case 'acquire':
        arg = `${timeoutSeconds('acquire_timeout_s')}${semaphore ? ` ${limit(body)}` : ''}${optional(leaseSeconds())}`;
        break;
      case 'release':
        arg = token(body);
        break;
      case 'renew':
        arg = `${token(body)}${optional(leaseSeconds())}`;
        break;
      case 'enqueue':
        arg = `${semaphore ? limit(body) : ''}${optional(leaseSeconds())}`.trim();
        break;
      case 'wait':
        arg = `${timeoutSeconds('timeout_s')}`;
        break;
    }
    const parsed = core.parser.parse(verb, key, arg);
    // The checks above match the TCP rules; this only answers for a rule they do not know.
    if (typeof parsed === 'number') throw badRequest(`the server refused the arguments (code ${parsed})`);
    this.request = parsed;
  }

  /**
   * Runs the call for `session`. Resolves with the answer, or `null` when the
   * client went away (`gone` aborted): then nothing is answered, a blocked
   * call gives its place up, and a grant that raced the abort is released so
   * the next waiter gets it. A session ended meanwhile answers `410 session_gone`.
   */
  run(handlers: CommandHandlers, session: Session, gone: AbortSignal): Promise<Answer | null> {
    return new Promise((resolve, reject) => {
      let settled = false;
      // A no-op unless the call is still blocked: the handlers know.
      const onGone = (): void => handlers.abandon(origin);
      const finish = (reply: string): void => {
        if (settled) return;
        settled = true;
        gone.removeEventListener('abort', onGone);
        if (gone.aborted || session.ended) {
          this.handOn(handlers, origin, reply);
          if (session.ended && !gone.aborted) reject(sessionGone());
          else resolve(null);
          return;
        }
        try {
          resolve(this.answer(reply));
        } catch (err) {
          reject(err);
        }
      };
      const origin: RequestOrigin = {
        id: session.ownerId,
        resume: (reply) => {
          // Known now, so neither an abort nor a session delete cancels it any more.
          if (session.blocked === origin) session.blocked = undefined;
          // Deferred past the I/O already received: a grant arrives from inside
          // another client's request, and a client that left in that instant
          // is then known to be gone, so its grant is handed on.
          setImmediate(() => finish(reply));
        },
      };
      const immediate = handlers.handle(origin, this.request);
      if (immediate !== null) {
        finish(immediate);
        return;
      }
      session.blocked = origin;
      if (gone.aborted) onGone();
      else gone.addEventListener('abort', onGone, { once: true });
    });
  }

  // A grant nobody will hear of goes to the next waiter.
  private handOn(handlers: CommandHandlers, origin: RequestOrigin, reply: string): void {
    if (this.action !== 'acquire' && this.action !== 'wait') return;
    const m = /^ok ([0-9a-f]{32}) /.exec(reply);
    if (!m) return;
    handlers.handle(origin, { cmd: this.semaphore ? 'sr' : 'r', key: this.key, token: m[1]! });
  }

  private answer(reply: string): Answer {
    const line = reply.endsWith('\n') ? reply.slice(0, -1) : reply;
    const [status, a, b] = line.split(' ');
    switch (status) {
      case 'ok':
        if (b !== undefined) return { status: 200, json: { status: 'ok', token: a, lease_ttl_s: Number(b) } };
        if (a !== undefined) return { status: 200, json: { remaining_s: Number(a) } };
        return { status: 204 };
      case 'acquired':
        return { status: 200, json: { status: 'acquired', token: a, lease_ttl_s: Number(b) } };
      case 'queued':
      case 'timeout':
        return { status: 200, json: { status } };
      case 'error':
        if (this.action === 'release' || this.action === 'renew') {
          throw new HttpFailure(404, 'not_held', 'no such token held on this key');
        }
        throw failureOf(status, this.semaphore);
      default:
        throw failureOf(status!, this.semaphore);
    }
  }
}

/** `410 session_gone`. */
export function sessionGone(): HttpFailure {
  return new HttpFailure(410, 'session_gone', 'unknown or expired session');
}

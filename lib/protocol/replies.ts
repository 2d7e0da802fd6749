import { DflockdError, ErrorContext, ProtocolError, errorFromStatus } from '../errors.js';
import type { ExpectedReply } from './commands.js';

/** A reply line, parsed. Raw strings never leave `protocol/`: everything above switches on `kind`. */
export type Reply =
  /** `ok` — release, auth, ping. */
  | { readonly kind: 'ok' }
  /** `ok <token> <lease>` — l, sl, w, sw. */
  | { readonly kind: 'granted'; readonly token: string; readonly leaseS: number }
  /** `acquired <token> <lease>` — e, se granted at once. */
  | { readonly kind: 'acquired'; readonly token: string; readonly leaseS: number }
  /** `queued` — e, se. */
  | { readonly kind: 'queued' }
  /** `ok <lease>` — n, sn: the new lease length. */
  | { readonly kind: 'renewed'; readonly leaseS: number }
  /** `ok {json}` — stats. */
  | { readonly kind: 'stats'; readonly json: Readonly<Record<string, unknown>> }
  /** `timeout`, `error`, `error_*` with an optional detail (`error_not_leader host:port`). */
  | { readonly kind: 'status'; readonly status: string; readonly detail: string | undefined };

const WORD = /^\S+$/;

const OK: Reply = Object.freeze({ kind: 'ok' });
const QUEUED: Reply = Object.freeze({ kind: 'queued' });

/** True for a non-empty run of ASCII digits between `from` and the end of `line`. */
function decimalFrom(line: string, from: number): boolean {
  if (from >= line.length) return false;
  for (let i = from; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** `<token> <lease>` from `from` to the end of `line` (`ok …` or `acquired …`), read without splitting. */
function grantFrom(line: string, from: number, kind: 'granted' | 'acquired'): Reply | undefined {
  const space = line.indexOf(' ', from);
  if (space <= from || !decimalFrom(line, space + 1)) return undefined;
  const token = line.slice(from, space);
  return WORD.test(token) ? { kind, token, leaseS: Number(line.slice(space + 1)) } : undefined;
}

/** Parses one reply line; `undefined` when the line is not a dflockd reply at all. */
export function parseReply(line: string): Reply | undefined {
  if (line === 'ok') return OK;
  if (line === 'queued') return QUEUED;
  if (line.startsWith('ok ')) {
    if (line.charCodeAt(3) === 0x7b) return statsReply(line);
    // `ok <lease>` (a renewal) or `ok <token> <lease>` (a grant): the hot replies.
    if (line.indexOf(' ', 3) === -1) return decimalFrom(line, 3) ? { kind: 'renewed', leaseS: Number(line.slice(3)) } : undefined;
    return grantFrom(line, 3, 'granted');
  }
  if (line.startsWith('acquired ')) return grantFrom(line, 9, 'acquired');
  if (line === 'timeout' || line === 'error') return { kind: 'status', status: line, detail: undefined };
  const parts = line.split(' ');
  if (parts[0]!.startsWith('error_') && WORD.test(parts[0]!)) {
    return { kind: 'status', status: parts[0]!, detail: parts.length > 1 ? parts.slice(1).join(' ') : undefined };
  }
  return undefined;
}

/** `ok {json}`: a stats reply, or `undefined` when the JSON is broken or not an object. */
function statsReply(line: string): Reply | undefined {
  try {
    const json: unknown = JSON.parse(line.slice(3));
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
      return { kind: 'stats', json: json as Record<string, unknown> };
    }
  } catch {
    // Not JSON: not a reply.
  }
  return undefined;
}

const ACCEPTS: Readonly<Record<ExpectedReply, readonly Reply['kind'][]>> = {
  grant: ['granted'],
  enqueue: ['acquired', 'queued'],
  renewed: ['renewed'],
  ok: ['ok'],
  stats: ['stats'],
  // dflockd 1.10 has no `ping` and answers `error`, which still resets the idle clock.
  ping: ['ok'],
};

/**
 * Reads a reply line for a request that expected `expect`: the parsed success reply, or the
 * error to raise (a status error, or {@link ProtocolError} for a line that does not fit).
 * `errorContext` may be a function: it is then called only when there is an error to describe.
 */
export function interpretReply(line: string, expect: ExpectedReply, errorContext: ErrorContext | (() => ErrorContext)): Reply | DflockdError {
  const reply = parseReply(line);
  if (reply !== undefined && ACCEPTS[expect].includes(reply.kind)) return reply;
  const context = typeof errorContext === 'function' ? errorContext() : errorContext;
  if (reply === undefined) {
    return new ProtocolError(`${describe(context)}: unexpected reply ${JSON.stringify(line.slice(0, 120))}`, context);
  }
  if (reply.kind === 'status') {
    if (expect === 'ping' && reply.status === 'error') return { kind: 'ok' };
    return errorFromStatus(reply.status, reply.detail, context);
  }
  return new ProtocolError(`${describe(context)}: reply ${JSON.stringify(line.slice(0, 120))} does not answer this command`, context);
}

function describe(context: ErrorContext): string {
  return `${context.key !== undefined ? `key "${context.key}" ` : ''}${context.command ?? 'request'}${context.server ? ` on ${context.server}` : ''}`;
}

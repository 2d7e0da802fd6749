import { DflockdError, ErrorContext, ProtocolError, errorFromStatus } from '../errors.js';
import type { ExpectedReply } from './commands.js';
import { isWordIn } from './validate.js';

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

/**
 * The decimal number spelled by `line` from `from` to its end; -1 if that is empty or not all
 * digits. Read in place: no slice, no string-to-number conversion (which hashes the string).
 */
function decimalFrom(line: string, from: number): number {
  if (from >= line.length) return -1;
  let value = 0;
  for (let i = from; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    value = value * 10 + (c - 0x30);
  }
  return value;
}

/** `<token> <lease>` from `from` to the end of `line` (`ok …` or `acquired …`), read without splitting. */
function grantFrom(line: string, from: number, kind: 'granted' | 'acquired'): Reply | undefined {
  const space = line.indexOf(' ', from);
  if (space <= from) return undefined;
  const leaseS = decimalFrom(line, space + 1);
  // Checked here as a token argument would be: releasing or renewing it needs no second look.
  return leaseS >= 0 && isWordIn(line, from, space) ? { kind, token: line.slice(from, space), leaseS } : undefined;
}

/** Parses one reply line; `undefined` when the line is not a dflockd reply at all. */
export function parseReply(line: string): Reply | undefined {
  if (line === 'ok') return OK;
  if (line === 'queued') return QUEUED;
  if (line.startsWith('ok ')) {
    if (line.charCodeAt(3) === 0x7b) return statsReply(line);
    // `ok <lease>` (a renewal) or `ok <token> <lease>` (a grant): the hot replies.
    if (line.indexOf(' ', 3) === -1) {
      const leaseS = decimalFrom(line, 3);
      return leaseS >= 0 ? { kind: 'renewed', leaseS } : undefined;
    }
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

/** Whether a reply of `kind` is a success for a command expecting `expect` (a switch: no keyed lookup on the hot path). */
function accepts(expect: ExpectedReply, kind: Reply['kind']): boolean {
  switch (expect) {
    case 'grant':
      return kind === 'granted';
    case 'enqueue':
      return kind === 'acquired' || kind === 'queued';
    case 'renewed':
      return kind === 'renewed';
    case 'stats':
      return kind === 'stats';
    case 'ok':
    // dflockd 1.10 has no `ping` and answers `error`, which still resets the idle clock (see interpretReply).
    case 'ping':
      return kind === 'ok';
  }
}

/**
 * The reply when `line` is a success for a command expecting `expect`; `undefined` for anything
 * else (then {@link interpretReply} says what it is). The hot path: no error context needed.
 */
export function acceptReply(line: string, expect: ExpectedReply): Reply | undefined {
  const reply = parseReply(line);
  return reply !== undefined && accepts(expect, reply.kind) ? reply : undefined;
}

/**
 * Reads a reply line for a request that expected `expect`: the parsed success reply, or the
 * error to raise (a status error, or {@link ProtocolError} for a line that does not fit), described
 * with `context`. The hot path asks {@link acceptReply} first and builds a context only when it fails.
 */
export function interpretReply(line: string, expect: ExpectedReply, context: ErrorContext): Reply | DflockdError {
  const reply = parseReply(line);
  if (reply !== undefined && accepts(expect, reply.kind)) return reply;
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

/**
 * The paths of the HTTP API (PROTOCOL.md §3.1) and their methods: a request
 * target becomes a route, `404 not_found` or `405 method_not_allowed`.
 *
 * @module
 */

import { HttpFailure } from './errors.js';

/** A lock or semaphore operation, named after the TCP verb it becomes. */
export type LockAction = 'acquire' | 'release' | 'renew' | 'enqueue' | 'wait';

/** A matched request. Path parameters stay raw (percent-encoded) until a handler checks them. */
export type Route =
  | { readonly name: 'health' | 'ready' | 'metrics' | 'openapi' | 'stats' | 'createSession' }
  | { readonly name: 'pingSession' | 'deleteSession'; readonly sessionId: string }
  | { readonly name: 'lock'; readonly semaphore: boolean; readonly action: LockAction; readonly rawKey: string };

const FIXED: Readonly<Record<string, readonly [method: string, route: Route]>> = {
  '/health': ['GET', { name: 'health' }],
  '/ready': ['GET', { name: 'ready' }],
  '/metrics': ['GET', { name: 'metrics' }],
  '/v1/openapi.json': ['GET', { name: 'openapi' }],
  '/v1/stats': ['GET', { name: 'stats' }],
  '/v1/sessions': ['POST', { name: 'createSession' }],
};

const ACTIONS: ReadonlySet<string> = new Set(['release', 'renew', 'enqueue', 'wait']);

function allows(expected: string, method: string): boolean {
  // HEAD is GET without a body, as Go's mux serves it.
  return method === expected || (expected === 'GET' && method === 'HEAD');
}

function methodNotAllowed(expected: string): HttpFailure {
  const allow = expected === 'GET' ? 'GET, HEAD' : expected;
  return new HttpFailure(405, 'method_not_allowed', `use ${expected}`, { Allow: allow });
}

/** Matches `method` and the request target's path (query ignored); throws 404/405 failures. */
export function route(method: string, target: string): Route {
  const path = target.split('?', 1)[0]!;
  const fixed = FIXED[path];
  if (fixed) {
    if (!allows(fixed[0], method)) throw methodNotAllowed(fixed[0]);
    return fixed[1];
  }
  const parts = path.split('/');
  // ['', 'v1', kind, id-or-key, action?]
  if (parts[0] !== '' || parts[1] !== 'v1' || parts.length < 4 || parts.length > 5 || parts[3] === '') throw notFound();
  const [, , kind, param, action] = parts as [string, string, string, string, string | undefined];
  if (kind === 'sessions') {
    if (action === undefined) {
      if (method !== 'DELETE') throw methodNotAllowed('DELETE');
      return { name: 'deleteSession', sessionId: param };
    }
    if (action !== 'ping') throw notFound();
    if (method !== 'POST') throw methodNotAllowed('POST');
    return { name: 'pingSession', sessionId: param };
  }
  if (kind !== 'locks' && kind !== 'semaphores') throw notFound();
  if (action !== undefined && !ACTIONS.has(action)) throw notFound();
  if (method !== 'POST') throw methodNotAllowed('POST');
  return { name: 'lock', semaphore: kind === 'semaphores', action: (action ?? 'acquire') as LockAction, rawKey: param };
}

function notFound(): HttpFailure {
  return new HttpFailure(404, 'not_found', 'no such endpoint');
}

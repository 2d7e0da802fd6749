/**
 * CORS as dflockd 2.x answers it (PROTOCOL.md §3.4): off unless origins are
 * configured; the same headers on preflights and ordinary responses for an
 * allowed `Origin`; never credentials or exposed headers.
 *
 * @module
 */

import type * as http from 'node:http';

const METHODS = 'GET, POST, DELETE, OPTIONS';
const HEADERS = 'Authorization, Content-Type, X-Dflockd-Session';
const MAX_AGE = '300';

/** Which origins may call the API from a browser: a list, `'*'`, or none (off). */
export class CorsPolicy {
  private readonly origins: ReadonlySet<string>;
  private readonly any: boolean;

  constructor(allowed: readonly string[] | '*') {
    this.any = allowed === '*';
    this.origins = new Set(allowed === '*' ? [] : allowed);
  }

  /** Whether `req` is a preflight (`OPTIONS` with `Access-Control-Request-Method`), answered 204 before auth. */
  static isPreflight(req: http.IncomingMessage): boolean {
    return req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  }

  /** Sets the CORS headers on `res` when the request's `Origin` is allowed; nothing otherwise. */
  apply(req: http.IncomingMessage, res: http.ServerResponse): void {
    const origin = req.headers.origin;
    if (origin === undefined) return;
    if (this.any) {
      res.setHeader('Access-Control-Allow-Origin', '*');
    } else if (this.origins.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
    } else {
      return;
    }
    res.setHeader('Access-Control-Allow-Methods', METHODS);
    res.setHeader('Access-Control-Allow-Headers', HEADERS);
    res.setHeader('Access-Control-Max-Age', MAX_AGE);
  }
}

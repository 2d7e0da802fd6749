/**
 * The browser's stand-in for `line-socket.ts`, the one module of the package root that needs
 * Node.js (`node:net`, `node:tls`, `Buffer`, `process.nextTick`). Bundlers building for a browser
 * put this file in that module's place (package.json `browser`, derived from scripts/entries.mjs),
 * so `import { DistributedLock, stableHashShard } from 'dflockd-rx'` bundles with no Node built-in
 * in its graph. It has the same exports, each failing with the `TCP_UNAVAILABLE` error that points
 * to `DflockdHttpClient`; every other module of the package is the same one Node runs.
 *
 * @module
 */
import { Observable, throwError } from 'rxjs';
import { DflockdError } from '../errors.js';
import type * as node from './line-socket.js';

export type { LineListener, LineSocket, LineSocketOptions } from './line-socket.js';

/** The error of every TCP call in a browser bundle: what was called, and what to use instead. */
function tcpUnavailable(what: string): DflockdError {
  return new DflockdError(
    'TCP_UNAVAILABLE',
    `${what}: the TCP client needs Node.js (node:net); in a browser use DflockdHttpClient from 'dflockd-rx/http' (with the facade: new DistributedLock(key, { client: new DflockdHttpClient({ url }) }))`,
    { command: 'connect' },
  );
}

/**
 * Throws the `TCP_UNAVAILABLE` error naming `what`: a browser has no TCP sockets.
 * @internal
 */
export const requireTcp: typeof node.requireTcp = (what) => {
  throw tcpUnavailable(what);
};

/** In a browser: an Observable that fails at once with the `TCP_UNAVAILABLE` error (no TCP sockets). */
export const connectLineSocket: typeof node.connectLineSocket = (): Observable<node.LineSocket> => throwError(() => tcpUnavailable('connectLineSocket()'));

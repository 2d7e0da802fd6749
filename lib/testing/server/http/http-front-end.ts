/**
 * The HTTP listener of {@link DflockdTestServer} (PROTOCOL.md Part 3): routes,
 * CORS, bearer auth, sessions and the lock calls, over `node:http`, on the
 * server's {@link LockCore}: the same rules, parser, handlers, lock table and
 * token source as the TCP listener, and owner ids from the same counter.
 *
 * @module
 */

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import type { LockCore } from '../lock-core.js';
import { renderStats } from '../stats.js';
import { MAX_BODY_BYTES, parseObject, readBody } from './body.js';
import { CorsPolicy } from './cors.js';
import { HttpFailure, badRequest } from './errors.js';
import { keyFromSegment } from './fields.js';
import { type Answer, LockCall, allowedFields, sessionGone } from './lock-calls.js';
import { renderMetrics } from './metrics.js';
import { OPENAPI_DOCUMENT } from './openapi.js';
import { type Route, route } from './router.js';
import { type Session, SessionTable } from './session-table.js';

/** What the HTTP listener shares with the rest of the server. */
export interface HttpFrontEndConfig {
  /** The TCP listener's certificate and key: with them the HTTP API is served over TLS too, as dflockd does. */
  readonly tls: { readonly cert: Buffer; readonly key: Buffer } | undefined;
  readonly host: string;
  readonly port: number;
  readonly corsAllowedOrigins: readonly string[] | '*';
  readonly sessionIdleTimeoutS: number;
  readonly authToken: Buffer | undefined;
  /** The lock state and request handling shared with TCP; sessions are its owners. */
  readonly core: LockCore;
}

// dflockd waits this long before answering a failed auth, to slow down guessing.
const AUTH_FAILURE_DELAY_MS = 100;
const SESSION_HEADER = 'x-dflockd-session';
const OPENAPI_BODY = JSON.stringify(OPENAPI_DOCUMENT);

const json = (status: number, value: unknown): Answer => ({ status, json: value });

/** The HTTP listener; one per started server. */
export class HttpFrontEnd {
  private readonly server: http.Server;
  private readonly cors: CorsPolicy;
  private readonly sessions: SessionTable;
  private readonly core: LockCore;
  private boundPort = 0;

  constructor(private readonly config: HttpFrontEndConfig) {
    this.core = config.core;
    this.cors = new CorsPolicy(config.corsAllowedOrigins);
    this.sessions = new SessionTable({
      idleTimeoutS: config.sessionIdleTimeoutS,
      openOwner: () => this.core.openOwner(),
      cleanup: (session) => this.cleanup(session),
    });
    // Long polls may last as long as a client asks: no request timeout of our own.
    const serve = (req: http.IncomingMessage, res: http.ServerResponse): void => void this.serve(req, res);
    this.server = config.tls
      ? https.createServer({ ...config.tls, minVersion: 'TLSv1.2', requestTimeout: 0 }, serve)
      : http.createServer({ requestTimeout: 0 }, serve);
    this.server.on('clientError', (_err, socket: net.Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  /** The bound port (0 before start). */
  get port(): number {
    return this.boundPort;
  }

  /** Sessions currently open. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Binds the listener; resolves with the port. */
  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.config.port, this.config.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.server.on('error', () => undefined);
    this.boundPort = (this.server.address() as net.AddressInfo).port;
    return this.boundPort;
  }

  // A stop (graceful or not) began in the core: `/ready` answers 503 and lock calls `503 draining`.
  private get draining(): boolean {
    return this.core.handlers.draining;
  }

  /** Ends every session and closes the listener and every connection (the core's shutdown has begun). */
  async stop(): Promise<void> {
    this.sessions.endAll();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Let the answers of the calls just woken be written first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.server.closeAllConnections();
    await closed;
  }

  // A session ends as a TCP connection does: a blocked call gives its place up
  // (answered `error`, which the call turns into 410), then the core drops the
  // owner's waiters and, with auto-release, releases what it holds.
  private cleanup(session: Session): void {
    const blocked = session.blocked;
    session.blocked = undefined;
    if (blocked) this.core.handlers.abandon(blocked);
    this.core.closeOwner(session.ownerId);
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.cors.apply(req, res);
    if (CorsPolicy.isPreflight(req)) {
      req.resume();
      res.writeHead(204).end();
      return;
    }
    const gone = this.watchClient(req, res);
    let answer: Answer | null;
    try {
      const matched = route(req.method ?? 'GET', req.url ?? '/');
      if (!this.isPublic(matched) && !this.authorised(req)) {
        await new Promise((resolve) => setTimeout(resolve, AUTH_FAILURE_DELAY_MS).unref());
        res.setHeader('WWW-Authenticate', 'Bearer');
        throw new HttpFailure(401, 'unauthorized', 'missing or invalid bearer token');
      }
      answer = await this.dispatch(matched, req, gone);
    } catch (err) {
      // A bug here must not take the process down with an unhandled rejection.
      const failure = err instanceof HttpFailure ? err : new HttpFailure(500, 'internal_error', String(err));
      for (const [name, value] of Object.entries(failure.headers)) res.setHeader(name, value);
      answer = { status: failure.status, json: failure.payload() };
    }
    if (answer === null || res.destroyed) return;
    req.resume();
    this.write(res, answer, req.method === 'HEAD');
  }

  // Aborted once the client can no longer receive the answer. The socket's own
  // events come first: a response's 'close' trails them by a loop phase, too
  // late to hand on a grant that raced the client's exit.
  private watchClient(req: http.IncomingMessage, res: http.ServerResponse): AbortSignal {
    const gone = new AbortController();
    const socket = req.socket;
    const onGone = (): void => gone.abort();
    socket.once('end', onGone);
    socket.once('close', onGone);
    const unwatch = (): void => {
      socket.off('end', onGone);
      socket.off('close', onGone);
    };
    res.once('finish', unwatch);
    res.once('close', () => {
      unwatch();
      if (!res.writableFinished) gone.abort();
    });
    return gone.signal;
  }

  private write(res: http.ServerResponse, answer: Answer, head: boolean): void {
    const text = answer.text ?? (answer.json === undefined ? undefined : JSON.stringify(answer.json));
    if (text === undefined) {
      res.writeHead(answer.status).end();
      return;
    }
    // JSON.stringify escapes nothing above U+007F, so those bodies are UTF-8; ready bodies are byte strings.
    const bytes = Buffer.from(text, answer.text === undefined ? 'utf8' : 'latin1');
    res.writeHead(answer.status, { 'Content-Type': answer.type ?? 'application/json', 'Content-Length': bytes.length });
    res.end(head ? undefined : bytes);
  }

  private isPublic(r: Route): boolean {
    return r.name === 'health' || r.name === 'ready' || r.name === 'openapi';
  }

  private authorised(req: http.IncomingMessage): boolean {
    const expected = this.config.authToken;
    if (expected === undefined) return true;
    const m = /^bearer (.*)$/is.exec(req.headers.authorization ?? '');
    if (!m) return false;
    const given = Buffer.from(m[1]!, 'utf8');
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  }

  private async dispatch(r: Route, req: http.IncomingMessage, gone: AbortSignal): Promise<Answer | null> {
    switch (r.name) {
      case 'health':
        return json(200, { status: 'ok' });
      case 'ready':
        return this.draining ? json(503, { status: 'draining' }) : json(200, { status: 'ok' });
      case 'metrics':
        return {
          status: 200,
          type: 'text/plain; version=0.0.4; charset=utf-8',
          text: renderMetrics({ table: this.core.table, connections: this.core.connectionCount, sessions: this.sessions.size, draining: this.draining }),
        };
      case 'openapi':
        return { status: 200, text: OPENAPI_BODY };
      case 'stats':
        // The TCP document: its `connections` counts sessions too, as dflockd 2.x does.
        return { status: 200, text: renderStats(this.core.table, this.core.connectionCount) };
      case 'createSession': {
        // 2.1.x ignores the body of this call.
        if (this.draining) throw draining();
        const session = this.sessions.create();
        return json(200, { session_id: session.id, idle_timeout_s: this.config.sessionIdleTimeoutS });
      }
      case 'pingSession': {
        const session = this.sessions.get(r.sessionId);
        if (!session) throw sessionGone();
        this.sessions.touch(session);
        return { status: 204 };
      }
      case 'deleteSession': {
        const session = this.sessions.get(r.sessionId);
        if (!session) throw sessionGone();
        this.sessions.end(session, 'deleted');
        return { status: 204 };
      }
      case 'lock':
        return this.lockCall(r, req, gone);
    }
  }

  private async lockCall(r: Extract<Route, { name: 'lock' }>, req: http.IncomingMessage, gone: AbortSignal): Promise<Answer | null> {
    const header = req.headers[SESSION_HEADER];
    if (typeof header !== 'string' || header === '') throw badRequest('missing X-Dflockd-Session header');
    const session = this.sessions.get(header);
    if (!session) throw sessionGone();
    // The session is busy from here: a slow upload must not let it be reaped.
    return this.sessions.run(session, async () => {
      if (gone.aborted) return null;
      const key = keyFromSegment(r.rawKey);
      const body = parseObject(await readBody(req, MAX_BODY_BYTES), allowedFields(r.action, r.semaphore));
      const call = new LockCall(this.core, r.action, r.semaphore, key, body);
      if (session.ended) throw sessionGone();
      if (gone.aborted) return null;
      if (this.draining) throw draining();
      return call.run(this.core.handlers, session, gone);
    });
  }
}

function draining(): HttpFailure {
  return new HttpFailure(503, 'draining', 'the server is shutting down');
}

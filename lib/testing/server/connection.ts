/**
 * One client connection, handled the way dflockd's per-connection goroutine
 * does: optional auth handshake, then one request at a time in order, a read
 * deadline per line (never while a request is blocked or a write is pending),
 * and cleanup when the loop ends. Per compat mode: longer auth lines, a peer
 * that leaves while blocked noticed, `error_draining` during a graceful stop.
 *
 * @module
 */

import * as crypto from 'node:crypto';
import type * as net from 'node:net';
import type { CompatRules } from './compat.js';
import type { CommandHandlers, RequestOrigin } from './handlers.js';
import { LINE_TOO_LONG, LineReader, MAX_LINE_BYTES } from './line-reader.js';
import type { RequestParser } from './request-parser.js';

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly parser: RequestParser;
  readonly handlers: CommandHandlers;
  readonly rules: CompatRules;
  /** The configured auth token as bytes, or undefined when auth is off. */
  readonly authToken: Buffer | undefined;
  readonly readTimeoutMs: number;
  /** 0 disables the write deadline. */
  readonly writeTimeoutMs: number;
  /** The request loop ended: release what the connection owned (if configured) and forget it. */
  connectionEnded(conn: ServerConnection): void;
}

const enum State {
  Reading,
  Blocked,
  Writing,
  AuthFailed,
  Closed,
}

type ReadFailure = 'eof' | 'timeout' | 'too-long';

const MAX_DELAY = 2_147_483_647;
// dflockd sleeps this long after error_auth to slow down guessing.
const AUTH_FAILURE_DELAY_MS = 100;
// While blocked, a watched connection keeps reading (to see the peer leave); past
// this many buffered bytes of pipelined requests it stops, as a full bufio would.
const BLOCKED_READ_CAP = 64 * 1024;

/** Server side of one accepted connection. */
export class ServerConnection implements RequestOrigin {
  private state = State.Reading;
  private authenticated: boolean;
  private readonly reader = new LineReader();
  private readonly lines: string[] = ['', '', ''];
  private lineCount = 0;
  // Counts consumed lines, so the deadline is armed once per line awaited.
  private lineSeq = 0;
  private armedSeq = -1;
  private deadlineAt = 0;
  private draining = false;
  private eof = false;
  private readTimer: NodeJS.Timeout | undefined;
  private readTimerIsFull = false;
  private writeTimer: NodeJS.Timeout | undefined;
  private handshaking: boolean;
  private corked = false;

  constructor(
    /** Connection id, from 1 per accepted connection (`owner_conn_id` in stats). */
    readonly id: number,
    private readonly socket: net.Socket,
    private readonly host: ConnectionHost,
  ) {
    this.authenticated = host.authToken === undefined;
    // A TLS socket whose handshake never completed cannot flush anything.
    this.handshaking = 'encrypted' in socket;
    if (this.handshaking) socket.once('secure', () => (this.handshaking = false));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.reader.push(chunk);
      if (this.state === State.Reading) this.pump();
      else if (this.state === State.Blocked && this.reader.buffered > BLOCKED_READ_CAP) socket.pause();
    });
    socket.on('end', () => this.onEof());
    socket.on('error', () => this.onEof());
    socket.on('close', () => this.onEof());
    socket.on('drain', () => this.onDrain());
  }

  /** Starts reading (the server registers the connection first, so a quick close is accounted for). */
  start(): void {
    this.socket.resume();
    this.pump();
  }

  /** Delivers the reply of a blocked request (deferred: the grant may come from inside another request). */
  resume(reply: string): void {
    queueMicrotask(() => {
      if (this.state !== State.Blocked) return;
      this.state = State.Reading;
      this.socket.resume();
      if (this.reply(reply)) this.pump();
    });
  }

  /** Ends the connection now (server stop); pending replies are still flushed. */
  close(): void {
    if (this.state === State.Closed) return;
    this.state = State.Closed;
    clearTimeout(this.readTimer);
    clearTimeout(this.writeTimer);
    this.host.connectionEnded(this);
    const socket = this.socket;
    if (socket.destroyed) return;
    if (this.handshaking) {
      socket.destroy();
      return;
    }
    socket.destroySoon();
    // A peer that never reads would keep the flush (and the socket) pending forever.
    const fallback = setTimeout(() => socket.destroy(), Math.max(this.host.writeTimeoutMs, 1000));
    fallback.unref();
    socket.once('close', () => clearTimeout(fallback));
  }

  private pump(): void {
    try {
      this.readRequests();
    } finally {
      if (this.corked) {
        this.corked = false;
        this.socket.uncork();
      }
    }
  }

  private readRequests(): void {
    while (this.state === State.Reading) {
      if (this.draining) {
        // Go drains the over-long line up to its LF (or EOF/deadline), then fails.
        if (this.reader.drain() || this.eof) this.failRead('too-long');
        else this.armDeadline();
        return;
      }
      const line = this.reader.next(this.lineLimit());
      if (line === null) {
        if (this.eof) this.failRead('eof');
        else this.armDeadline();
        return;
      }
      if (line === LINE_TOO_LONG) {
        this.draining = true;
        continue;
      }
      this.lineSeq++;
      this.lines[this.lineCount++] = line;
      if (this.lineCount === 3) {
        this.lineCount = 0;
        this.dispatch(this.lines[0]!, this.lines[1]!, this.lines[2]!);
      }
    }
  }

  // v1.15+ allow a long auth secret: only the argument line of `auth` grows.
  private lineLimit(): number {
    return this.lineCount === 2 && this.lines[0] === 'auth' ? this.host.rules.authLineBytes : MAX_LINE_BYTES;
  }

  private dispatch(cmd: string, key: string, arg: string): void {
    if (this.host.handlers.draining) {
      this.write('error_draining\n');
      this.close();
      return;
    }
    const req = this.host.parser.parse(cmd, key, arg);
    if (!this.authenticated) {
      if (typeof req === 'object' && req.cmd === 'auth' && this.tokenMatches(req.token)) {
        this.authenticated = true;
        this.reply('ok\n');
      } else {
        this.rejectAuth();
      }
      return;
    }
    // Parse errors consumed all three lines, so the connection stays usable.
    if (typeof req === 'number') {
      this.reply('error\n');
      return;
    }
    const reply = this.host.handlers.handle(this, req);
    if (reply !== null) {
      this.reply(reply);
      return;
    }
    this.state = State.Blocked;
    // v1.10: nothing more is read (not even EOF) until the reply is known.
    // Watched (v1.15+): reading goes on, so a peer that leaves is noticed.
    if (!this.host.rules.watchPeerClose) this.socket.pause();
  }

  // Writes a reply; a failed or stalled write ends the connection like Go's write error.
  private reply(line: string): boolean {
    if (!this.write(line)) {
      this.close();
      return false;
    }
    return true;
  }

  private write(line: string): boolean {
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return false;
    // More requests already buffered (pipelining): let their replies leave in one writev.
    if (!this.corked && this.reader.buffered > 0) {
      this.corked = true;
      socket.cork();
    }
    if (socket.write(line, 'latin1') || this.state !== State.Reading) return true;
    // Go blocks in Write: stop reading until the client takes the data or the deadline passes.
    this.state = State.Writing;
    socket.pause();
    if (this.host.writeTimeoutMs > 0) {
      this.writeTimer = setTimeout(() => {
        socket.destroy();
        this.close();
      }, Math.min(this.host.writeTimeoutMs, MAX_DELAY));
      this.writeTimer.unref();
    }
    return true;
  }

  private onDrain(): void {
    if (this.state !== State.Writing) return;
    clearTimeout(this.writeTimer);
    this.state = State.Reading;
    this.socket.resume();
    this.pump();
  }

  private onEof(): void {
    this.eof = true;
    if (this.state === State.Reading) this.pump();
    else if (this.state === State.Blocked && this.host.rules.watchPeerClose) {
      // The waiter leaves the queue before cleanup, so no grant goes to a dead peer.
      this.host.handlers.abandon(this);
      this.close();
    }
    else if (this.state === State.Writing && this.socket.destroyed) this.close();
  }

  private failRead(kind: ReadFailure): void {
    if (!this.authenticated) {
      this.rejectAuth();
      return;
    }
    if (kind !== 'eof') this.write('error\n');
    this.close();
  }

  private rejectAuth(): void {
    this.write('error_auth\n');
    this.state = State.AuthFailed;
    clearTimeout(this.readTimer);
    this.socket.pause();
    setTimeout(() => this.close(), AUTH_FAILURE_DELAY_MS).unref();
  }

  private tokenMatches(token: string): boolean {
    const expected = this.host.authToken!;
    const given = Buffer.from(token, 'latin1');
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  }

  private armDeadline(): void {
    if (this.armedSeq === this.lineSeq) return;
    this.armedSeq = this.lineSeq;
    this.deadlineAt = performance.now() + this.host.readTimeoutMs;
    // refresh() re-arms with the timer's own delay: cheap, but only right for a full-length timer.
    if (this.readTimer && this.readTimerIsFull) this.readTimer.refresh();
    else this.scheduleReadTimer(this.host.readTimeoutMs);
  }

  private scheduleReadTimer(ms: number): void {
    clearTimeout(this.readTimer);
    this.readTimerIsFull = ms === this.host.readTimeoutMs;
    this.readTimer = setTimeout(() => this.onReadTimer(), Math.min(ms, MAX_DELAY));
    this.readTimer.unref();
  }

  private onReadTimer(): void {
    // Only a read that is actually waiting for this line can time out.
    if (this.state !== State.Reading || this.armedSeq !== this.lineSeq) return;
    const left = this.deadlineAt - performance.now();
    if (left > 1) this.scheduleReadTimer(left);
    else this.failRead('timeout');
  }
}

/**
 * HTTP sessions (PROTOCOL.md §3.2): each one stands in for a TCP connection —
 * an owner id in the lock table, one call at a time, and an end (delete or
 * idle reaping) that cleans up like a disconnect.
 *
 * @module
 */

import * as crypto from 'node:crypto';
import type { RequestOrigin } from '../handlers.js';
import { type Cancelable, after } from '../timers.js';

/** Why a session ended. */
export type SessionEnd = 'deleted' | 'reaped' | 'stopped';

/** One session: its id, its owner id in the lock table and its call queue. */
export class Session {
  /** The origin of the call blocked in the lock table right now, if any (a long poll). */
  blocked: RequestOrigin | undefined;
  /** Set once the session is gone; calls still queued answer `410 session_gone`. */
  ended = false;
  /** Calls queued or running: while any is, the session cannot be reaped. */
  inFlight = 0;
  /** The idle timer, armed while no call is in flight. */
  reaper: Cancelable | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    /** 32 lowercase hex characters, local to this server. */
    readonly id: string,
    /** From the lock core's owner counter (shared with TCP), so holders show it as `owner_conn_id`. */
    readonly ownerId: number,
  ) {}

  /** Runs `call` after every earlier call of this session has finished. */
  serialise<T>(call: () => Promise<T>): Promise<T> {
    const run = this.tail.then(call, call);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/** What the table needs from the server. */
export interface SessionHost {
  /** Seconds; a session not seen for twice this long is reaped. */
  readonly idleTimeoutS: number;
  /** Opens the session's owner in the lock core and returns its id. */
  openOwner(): number;
  /** Wakes a blocked call, drops the session's waiters and, if configured, releases what it holds. */
  cleanup(session: Session, reason: SessionEnd): void;
}

/** Every live session, with idle reaping. */
export class SessionTable {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly host: SessionHost) {}

  /** Number of live sessions. */
  get size(): number {
    return this.sessions.size;
  }

  /** Opens a session; its idle clock starts now. */
  create(): Session {
    const session = new Session(crypto.randomBytes(16).toString('hex'), this.host.openOwner());
    this.sessions.set(session.id, session);
    this.armReaper(session);
    return session;
  }

  /** The live session with this id, or undefined (unknown, deleted or reaped). */
  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  /** A ping: the session counts as seen now. */
  touch(session: Session): void {
    if (session.inFlight === 0) this.armReaper(session);
  }

  /**
   * Runs one call of the session, serialised behind its earlier calls. While
   * calls are queued or running the session cannot be reaped; its idle clock
   * restarts when the last one ends.
   */
  async run<T>(session: Session, call: () => Promise<T>): Promise<T> {
    session.inFlight++;
    session.reaper?.cancel();
    session.reaper = undefined;
    try {
      return await session.serialise(call);
    } finally {
      session.inFlight--;
      if (session.inFlight === 0 && !session.ended) this.armReaper(session);
    }
  }

  /**
   * Ends a session: the host wakes a blocked call (its place given up) and
   * cleans up as for a disconnect. Idempotent.
   */
  end(session: Session, reason: SessionEnd): void {
    if (session.ended) return;
    session.ended = true;
    this.sessions.delete(session.id);
    session.reaper?.cancel();
    session.reaper = undefined;
    this.host.cleanup(session, reason);
  }

  /** Ends every session (server stop). */
  endAll(): void {
    for (const session of [...this.sessions.values()]) this.end(session, 'stopped');
  }

  private armReaper(session: Session): void {
    session.reaper?.cancel();
    session.reaper = after(this.host.idleTimeoutS * 2000, () => {
      session.reaper = undefined;
      if (session.inFlight === 0) this.end(session, 'reaped');
    });
  }
}

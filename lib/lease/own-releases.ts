import type { LeaseLink } from './lease-link.js';

/**
 * This client's releases still on their way, per key, with the connection each was written on.
 * One per server, kept by the client. A new acquisition of such a key sends its try-lock on that
 * connection: the server answers one connection's requests in order, so the try-lock is read
 * after the `r` and is not refused by this client's own lease (a job loop re-taking its key would
 * otherwise queue behind itself).
 */
export class OwnReleases {
  private readonly inFlight = new Map<string, { conn: LeaseLink; count: number }>();

  /** An `r` for `key` was written on `conn`. */
  add(key: string, conn: LeaseLink): void {
    const entry = this.inFlight.get(key);
    if (entry === undefined || entry.conn !== conn) this.inFlight.set(key, { conn, count: 1 });
    else entry.count++;
  }

  /** The `r` for `key` on `conn` was answered (or its connection is gone). */
  delete(key: string, conn: LeaseLink): void {
    const entry = this.inFlight.get(key);
    if (entry === undefined || entry.conn !== conn) return;
    if (--entry.count === 0) this.inFlight.delete(key);
  }

  /** The open connection carrying this client's latest unanswered `r` for `key`, if any. */
  connectionFor(key: string): LeaseLink | undefined {
    const conn = this.inFlight.get(key)?.conn;
    return conn !== undefined && conn.open ? conn : undefined;
  }
}

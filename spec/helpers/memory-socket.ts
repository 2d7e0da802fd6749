import { Observable, SchedulerLike, Subject } from 'rxjs';
import { Connection } from '../../lib/connection/connection.js';
import type { LineListener, LineSocket } from '../../lib/transport/line-socket.js';

/**
 * An in-memory {@link LineSocket}: what the client writes is kept as requests (3 lines each), and
 * the spec answers with {@link reply}. A fake of our own transport interface, for specs that run
 * the layers above it on virtual time; nothing of `net` is involved.
 */
export class MemorySocket implements LineSocket {
  readonly remote = 'memory:1';
  /** Every request written, as `verb key arg`, in order. */
  readonly requests: string[] = [];
  closed: 'open' | 'closed' | 'destroyed' = 'open';
  /** Called with every request as it is written (a scripted server answers from here). */
  onRequest: ((request: string) => void) | undefined;
  private buffered = '';
  private listener: LineListener | undefined;
  private readonly lines = new Subject<string>();
  readonly lines$: Observable<string> = this.lines.asObservable();

  get open(): boolean {
    return this.closed === 'open';
  }

  send(text: string): void {
    if (!this.open) return;
    this.buffered += text;
    const lines = this.buffered.split('\n');
    this.buffered = lines.pop()!;
    // Requests are 3 lines: keep any partial one for the next write.
    while (lines.length >= 3) {
      const request = lines.splice(0, 3).join(' ').trimEnd();
      this.requests.push(request);
      this.onRequest?.(request);
    }
    if (lines.length > 0) this.buffered = lines.join('\n') + '\n' + this.buffered;
  }

  /** The server answers the oldest unanswered request with `line`. */
  reply(line: string): void {
    this.listener?.line(line);
    this.lines.next(line);
  }

  /** The server closes the connection. */
  end(): void {
    this.closed = 'closed';
    this.listener?.end();
    this.lines.complete();
  }

  close(): void {
    if (this.closed === 'open') this.closed = 'closed';
  }

  destroy(): void {
    this.closed = 'destroyed';
  }

  setKeepAlive(): void {}

  listen(next: LineListener): () => void {
    this.listener = next;
    return () => {
      if (this.listener === next) this.listener = undefined;
    };
  }
}

/** A {@link Connection} over a {@link MemorySocket}, on `scheduler`'s clock. */
export function memoryConnection(scheduler: SchedulerLike, requestTimeoutMs = 10_000): { socket: MemorySocket; conn: Connection } {
  const socket = new MemorySocket();
  const conn = new Connection(socket, { server: socket.remote, scheduler, requestTimeoutMs });
  return { socket, conn };
}

// A deliberately dumb socket client for driving the test server byte by byte:
// send raw bytes, await the next reply line or EOF, with a timeout on every wait.
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { RawStats } from './server.js';

/** What a wait can observe: a reply line (LF stripped) or the end of the stream. */
export const EOF = Symbol('EOF');
export type Event = string | typeof EOF;

const open = new Set<RawClient>();

export class RawClient {
  /** Every line received, in order (for debugging failed tests). */
  readonly received: string[] = [];
  /** Socket error seen before close, e.g. ECONNRESET. */
  error: NodeJS.ErrnoException | undefined;
  private partial = '';
  private readonly queue: Event[] = [];
  private readonly waiters: Array<(e: Event) => void> = [];
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    open.add(this);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.partial += chunk.toString('utf8');
      let nl: number;
      while ((nl = this.partial.indexOf('\n')) >= 0) {
        const line = this.partial.slice(0, nl);
        this.partial = this.partial.slice(nl + 1);
        this.received.push(line);
        this.deliver(line);
      }
    });
    socket.on('error', (err) => (this.error = err));
    const end = (): void => {
      if (this.ended) return;
      this.ended = true;
      this.deliver(EOF);
    };
    socket.on('end', end);
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        end();
        open.delete(this);
        resolve();
      }),
    );
  }

  /** Connects over TCP (or TLS when `tlsOptions` is given) and resolves once connected. */
  static connect(port: number, tlsOptions?: tls.ConnectionOptions, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = tlsOptions
        ? tls.connect({ port, host, ...tlsOptions }, () => resolve(client))
        : net.connect({ port, host, allowHalfOpen: true }, () => resolve(client));
      const client = new RawClient(socket);
      socket.once('error', reject);
    });
  }

  /** Destroys every client still open (call in afterEach so no socket outlives its test). */
  static async closeAll(): Promise<void> {
    const all = [...open];
    for (const c of all) c.socket.destroy();
    await Promise.all(all.map((c) => c.closed));
  }

  /** Writes raw bytes (strings as latin1 if `binary`, else UTF-8). */
  send(data: string | Buffer, binary = false): void {
    this.socket.write(typeof data === 'string' && binary ? Buffer.from(data, 'latin1') : data);
  }

  /** Sends one 3-line request and returns the reply line. */
  async request(cmd: string, key: string, arg: string, timeoutMs = 3000): Promise<string> {
    this.send(`${cmd}\n${key}\n${arg}\n`);
    return this.line(timeoutMs);
  }

  /** The next reply line; rejects on EOF or timeout. */
  async line(timeoutMs = 3000): Promise<string> {
    const e = await this.next(timeoutMs);
    if (e === EOF) throw new Error(`expected a line, got EOF (received so far: ${JSON.stringify(this.received)})`);
    return e;
  }

  /** Resolves when the server closes the stream; rejects if a line arrives first or on timeout. */
  async eof(timeoutMs = 3000): Promise<void> {
    const e = await this.next(timeoutMs);
    if (e !== EOF) throw new Error(`expected EOF, got line ${JSON.stringify(e)}`);
  }

  /** The next event (line or EOF); rejects after `timeoutMs`. */
  next(timeoutMs = 3000): Promise<Event> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.ended) return Promise.resolve(EOF);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no reply within ${timeoutMs} ms (received so far: ${JSON.stringify(this.received)})`));
      }, timeoutMs);
      const waiter = (e: Event): void => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push(waiter);
    });
  }

  /** Asserts that nothing arrives for `ms` (use only to prove a negative, e.g. "still blocked"). */
  async silentFor(ms: number): Promise<void> {
    try {
      const e = await this.next(ms);
      throw new Error(`expected silence, got ${e === EOF ? 'EOF' : JSON.stringify(e)}`);
    } catch (err) {
      if (!(err as Error).message.startsWith('no reply within')) throw err;
    }
  }

  /** Half-closes (sends FIN); the server may still answer. */
  end(): void {
    this.socket.end();
  }

  /** Closes abruptly and waits for the close. */
  async destroy(): Promise<void> {
    this.socket.destroy();
    await this.closed;
  }

  private deliver(e: Event): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(e);
    else this.queue.push(e);
  }
}

/** Splits an `ok <token> <lease>` reply. */
export function grant(reply: string): { status: string; token: string; lease: number } {
  const m = /^(ok|acquired) ([0-9a-f]{32}) (-?\d+)$/.exec(reply);
  if (!m) throw new Error(`not a grant: ${JSON.stringify(reply)}`);
  return { status: m[1]!, token: m[2]!, lease: Number(m[3]) };
}

/** Parses an `ok {json}` stats reply. */
export function statsOf(reply: string): RawStats {
  if (!reply.startsWith('ok {')) throw new Error(`not a stats reply: ${reply}`);
  return JSON.parse(reply.slice(3));
}

/**
 * The raw-socket baseline: the least a Node process can do to drive a dflockd server. One
 * persistent socket per worker, requests written as literal strings, replies split on LF and
 * matched to a FIFO of callbacks. No validation, no Observables, no events, no timers.
 *
 * @module
 */

import * as net from 'node:net';
import * as tls from 'node:tls';

/** Where the baseline connects. */
export interface RawTarget {
  readonly host: string;
  readonly port: number;
  /** TLS options; plain TCP when absent. */
  readonly tls?: tls.ConnectionOptions | undefined;
  /** Sent as `auth` first when set. */
  readonly authToken?: string | undefined;
}

/** Receives one reply line, or `undefined` when the socket failed first. */
export type RawCallback = (line: string | undefined) => void;

const LF = 0x0a;

/** One persistent socket with FIFO reply matching. */
export class RawConnection {
  private readonly callbacks: (RawCallback | undefined)[] = [];
  private head = 0;
  private partial: Buffer | undefined;
  private failed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.fail());
    socket.on('close', () => this.fail());
  }

  /** Connects (and authenticates) one socket; rejects after `timeoutMs`. */
  static open(target: RawTarget, timeoutMs = 10_000): Promise<RawConnection> {
    return new Promise<RawConnection>((resolve, reject) => {
      const socket = target.tls
        ? tls.connect({ ...target.tls, host: target.host, port: target.port, servername: net.isIP(target.host) ? undefined : target.host })
        : net.connect({ host: target.host, port: target.port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`baseline: connect to ${target.host}:${target.port} timed out`));
      }, timeoutMs);
      const onError = (error: Error): void => {
        clearTimeout(timer);
        reject(new Error(`baseline: connect to ${target.host}:${target.port} failed: ${error.message}`));
      };
      socket.once('error', onError);
      socket.once(target.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        const conn = new RawConnection(socket);
        if (target.authToken === undefined) {
          resolve(conn);
          return;
        }
        conn.request(`auth\n_\n${target.authToken}\n`, (line) => {
          // `error` means the server has no token configured: nothing to authenticate.
          if (line === 'ok' || line === 'error') resolve(conn);
          else {
            conn.close();
            reject(new Error(`baseline: auth refused (${String(line)})`));
          }
        });
      });
    });
  }

  /** Writes one framed request; `callback` gets its reply line. */
  request(text: string, callback: RawCallback): void {
    if (this.failed) {
      queueMicrotask(() => callback(undefined));
      return;
    }
    this.callbacks.push(callback);
    this.socket.write(text);
  }

  /** Writes several framed requests in one write; `callbacks` get their replies, in order. */
  pipeline(text: string, callbacks: readonly RawCallback[]): void {
    if (this.failed) {
      queueMicrotask(() => {
        for (const callback of callbacks) callback(undefined);
      });
      return;
    }
    for (const callback of callbacks) this.callbacks.push(callback);
    this.socket.write(text);
  }

  /** Closes the socket. */
  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let data = chunk;
    if (this.partial !== undefined) {
      data = Buffer.concat([this.partial, chunk]);
      this.partial = undefined;
    }
    let start = 0;
    let nl = data.indexOf(LF, start);
    while (nl !== -1) {
      const end = nl > start && data[nl - 1] === 0x0d ? nl - 1 : nl;
      this.deliver(data.toString('latin1', start, end));
      start = nl + 1;
      nl = data.indexOf(LF, start);
    }
    if (start < data.length) this.partial = Buffer.from(data.subarray(start));
  }

  private deliver(line: string): void {
    const callback = this.callbacks[this.head];
    this.callbacks[this.head++] = undefined;
    if (this.head === this.callbacks.length) {
      this.callbacks.length = 0;
      this.head = 0;
    }
    callback?.(line);
  }

  private fail(): void {
    if (this.failed) return;
    this.failed = true;
    const pending = this.callbacks.slice(this.head);
    this.callbacks.length = 0;
    this.head = 0;
    for (const callback of pending) callback?.(undefined);
  }
}

/** Opens `count` baseline sockets. */
export async function openRawConnections(target: RawTarget, count: number): Promise<RawConnection[]> {
  const conns: RawConnection[] = [];
  try {
    for (let i = 0; i < count; i++) conns.push(await RawConnection.open(target));
  } catch (error) {
    for (const c of conns) c.close();
    throw error;
  }
  return conns;
}

/** The token of an `ok <token> <lease>` grant, or undefined for any other reply. */
export function grantToken(line: string | undefined): string | undefined {
  if (line === undefined || !line.startsWith('ok ')) return undefined;
  const space = line.indexOf(' ', 3);
  return space === -1 ? undefined : line.slice(3, space);
}

import * as net from 'node:net';
import * as tls from 'node:tls';
import { Observable, Subject } from 'rxjs';
import { ConnectTimeoutError, ConnectionError, DflockdError, ProtocolError } from '../errors.js';
import { DEFAULT_MAX_REPLY_BYTES, LineDecoder } from '../protocol/codec.js';

/** Where and how to open one socket. */
export interface LineSocketOptions {
  /** Server host name or address. */
  readonly host: string;
  /** Server TCP port. */
  readonly port: number;
  /** TLS options; plain TCP when absent. Certificate verification stays on unless you set `rejectUnauthorized: false`. */
  readonly tls?: tls.ConnectionOptions | undefined;
  /** Bound on TCP connect plus TLS handshake, in seconds. @default 10 */
  readonly connectTimeoutS?: number | undefined;
  /** Longest line accepted before the socket fails with a ProtocolError. @default 16 MiB */
  readonly maxLineBytes?: number | undefined;
}

/**
 * One connected socket seen as lines. `lines$` is hot: it emits every decoded line, completes
 * when the peer closes, and errors on a socket error or an oversized line.
 */
export interface LineSocket {
  /** The decoded lines, in order. */
  readonly lines$: Observable<string>;
  /** `host:port` of the peer. */
  readonly remote: string;
  /** True until the socket is closed from either side. */
  readonly open: boolean;
  /**
   * Writes text as is (frame it with `encodeRequest`). Texts sent in one tick are joined and
   * leave in one write at its end, so callers never decide batching.
   */
  send(text: string): void;
  /**
   * {@link send}, but written at once, with whatever this tick queued before it: for a request on
   * a connection that has nothing in flight, whose answer the caller's next step waits for.
   * @internal
   */
  sendNow?(text: string): void;
  /**
   * Ends the socket gracefully: pending writes are flushed, then the write side is ended (FIN),
   * and the socket is destroyed only when the peer closes, on an error, or after a grace period
   * (2 s) — never before what was written has had its chance to leave. Idempotent; never throws.
   */
  close(): void;
  /** Destroys the socket at once, dropping pending writes. Idempotent; never throws. */
  destroy(): void;
  /** Whether this socket keeps the Node process alive. */
  setKeepAlive(ref: boolean): void;
  /**
   * The fast path a `Connection` reads with: every line, the error or the end, called directly
   * rather than through `lines$` (whose subscribers still get them too). One listener at most.
   * @internal
   */
  listen?(listener: LineListener): () => void;
}

/**
 * Receives what `lines$` would emit, without a Subject in between.
 * @internal
 */
export interface LineListener {
  line(line: string): void;
  error(error: DflockdError): void;
  end(): void;
}

/** Size of the reusable read buffer of a plain TCP socket (Node's own read size). */
const READ_BUFFER_BYTES = 64 * 1024;

/** Time allowed to flush writes after close() before the socket is destroyed anyway. */
const CLOSE_GRACE_MS = 2_000;

/**
 * Does nothing: in Node.js sockets can be opened. A browser bundle gets `line-socket.browser.ts` in
 * this module's place (the package's `browser` field), whose `requireTcp` throws the
 * `TCP_UNAVAILABLE` error instead. The TCP client's constructors (and `connect()`) call it, so a
 * TCP client made in a browser fails where it is made, with a message that points to
 * `dflockd-rx/http`.
 * @param _what the call that needs TCP (`new DflockdClient()`, …), named by the browser's error.
 * @internal
 */
export function requireTcp(_what: string): void {}

/**
 * Opens a TCP (or TLS) socket and emits it once as a {@link LineSocket} when it is ready
 * (connected, and for TLS, handshaken and verified). Unsubscribing destroys it — unless
 * `close()` was called first, which then finishes as a graceful close.
 *
 * @example
 * ```ts
 * connectLineSocket({ host: '127.0.0.1', port: 6388 }).subscribe((s) => {
 *   s.lines$.subscribe((line) => console.log(line));
 *   s.send('ping\n_\n\n');
 * });
 * ```
 */
export function connectLineSocket(options: LineSocketOptions): Observable<LineSocket> {
  return new Observable<LineSocket>((subscriber) => {
    const remote = `${options.host}:${options.port}`;
    const timeoutMs = (options.connectTimeoutS ?? 10) * 1000;
    // Plain TCP reads into one reusable buffer per socket (`onread`): no Buffer and no stream
    // 'data' event per read. The decoder copies what it keeps. TLS sockets read as a stream.
    const readBuffer = options.tls ? undefined : Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const socket: net.Socket = options.tls
      ? tls.connect({ servername: net.isIP(options.host) ? undefined : options.host, ...options.tls, host: options.host, port: options.port })
      : net.connect({
          host: options.host,
          port: options.port,
          onread: {
            buffer: readBuffer!,
            callback: (bytes: number): boolean => {
              onChunk(readBuffer!.subarray(0, bytes));
              return true;
            },
          },
        });
    const lines = new Subject<string>();
    const decoder = new LineDecoder(options.maxLineBytes ?? DEFAULT_MAX_REPLY_BYTES);
    let ready = false;
    let open = true;
    // Writes of one tick leave together, joined into one string written at its end. Joined, not
    // corked: measured on loopback, 8 requests a tick cost 19 µs of CPU joined vs 28 µs corked, 50
    // a tick 26 vs 66 µs (one buffer instead of a writev of one chunk per request); 1 a tick, the same.
    let queued = '';
    let flushScheduled = false;
    const flush = (): void => {
      flushScheduled = false;
      const text = queued;
      queued = '';
      if (text !== '' && !socket.destroyed) socket.write(text);
    };
    // Set by close(): the end is under way and only the grace timer, an error or the peer ends it.
    let closing = false;
    let graceTimer: NodeJS.Timeout | undefined;

    let listener: LineListener | undefined;
    // The end of the socket is told once: the listener is detached as it is told.
    const takeListener = (): LineListener | undefined => {
      const taken = listener;
      listener = undefined;
      return taken;
    };
    const fail = (error: DflockdError): void => {
      open = false;
      socket.destroy();
      if (ready) {
        takeListener()?.error(error);
        lines.error(error);
      } else subscriber.error(error);
    };
    const timer = setTimeout(
      () => fail(new ConnectTimeoutError(`connect to ${remote} took longer than connectTimeoutS=${timeoutMs / 1000}; raise connectTimeoutS or check the server`, { server: remote, command: 'connect' })),
      timeoutMs,
    );
    timer.unref();

    socket.setNoDelay(true);
    socket.on(options.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      ready = true;
      subscriber.next(lineSocket);
    });
    const deliver = (line: string): void => {
      listener?.line(line);
      if (lines.observed) lines.next(line);
    };
    const onChunk = (chunk: Buffer): void => {
      try {
        decoder.feed(chunk, deliver);
      } catch (error) {
        // The decoder's own error (an oversized line) fails the socket; anything else is a bug.
        if (!(error instanceof ProtocolError)) throw error;
        fail(error);
      }
    };
    if (options.tls) socket.on('data', onChunk);
    socket.on('error', (cause: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!open) return;
      const what = ready ? 'connection to' : 'connect to';
      fail(new ConnectionError(`${what} ${remote} failed: ${cause.code ?? cause.message}`, { server: remote, command: 'connect', cause }));
    });
    socket.on('close', () => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      const wasOpen = open;
      open = false;
      if (!ready) {
        if (wasOpen) subscriber.error(new ConnectionError(`connection to ${remote} closed during connect`, { server: remote, command: 'connect' }));
        return;
      }
      // A Subject ignores complete() after error(), so a failed socket keeps its error.
      takeListener()?.end();
      lines.complete();
    });

    const lineSocket: LineSocket = {
      lines$: lines.asObservable(),
      remote,
      get open() {
        return open && !socket.destroyed;
      },
      send(text: string): void {
        if (!open || socket.destroyed) return;
        if (!flushScheduled) {
          flushScheduled = true;
          process.nextTick(flush);
        }
        queued += text;
      },
      sendNow(text: string): void {
        if (!open || socket.destroyed) return;
        // Anything queued earlier this tick goes first, in the same write; a flush already
        // scheduled then finds nothing left.
        const all = queued + text;
        queued = '';
        socket.write(all);
      },
      close(): void {
        if (closing || socket.destroyed) return;
        open = false;
        closing = true;
        // What this tick queued goes first; end() sends the FIN after everything written. The
        // timer bounds a peer that never reads (a full send buffer over a partition) or never closes.
        flush();
        socket.end();
        graceTimer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
        graceTimer.unref();
      },
      destroy(): void {
        open = false;
        socket.destroy();
      },
      setKeepAlive(ref: boolean): void {
        if (ref) socket.ref();
        else socket.unref();
      },
      listen(next: LineListener): () => void {
        listener = next;
        return () => {
          if (listener === next) listener = undefined;
        };
      },
    };

    return () => {
      clearTimeout(timer);
      open = false;
      // A graceful close owns the socket's end from here: the grace timer, an error or the peer finishes it.
      if (!closing) socket.destroy();
    };
  });
}

import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { BlackholeMode } from './faults.js';

/** The faults one direction of a connection is under. @internal */
export interface PipeFaults {
  latencyMs: number;
  blackhole: BlackholeMode | undefined;
}

interface Chunk {
  readonly data: Buffer;
  readonly due: number;
}

/**
 * One direction of a proxied connection (`from` → `to`): delays, black-holes
 * or half-closes the byte stream, and carries the source's FIN or RST to the
 * destination once everything before it has been delivered.
 *
 * @internal
 */
export class Pipe {
  bytesForwarded = 0;
  bytesDropped = 0;
  private latencyMs: number;
  private blackholeMode: BlackholeMode | undefined;
  private readonly queue: Chunk[] = [];
  private queued = 0;
  private lastDue = 0;
  private timer: NodeJS.Timeout | undefined;
  private source: 'open' | 'ended' | 'aborted' = 'open';
  /** Nothing more may be written to `to`: we ended or reset it, or it closed. */
  private destDone = false;
  private waitingDrain = false;
  private started = false;

  constructor(
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly maxQueuedBytes: number,
    faults: PipeFaults,
  ) {
    this.latencyMs = faults.latencyMs;
    this.blackholeMode = faults.blackhole;
    from.on('data', (chunk: Buffer) => this.onData(chunk));
    from.on('end', () => {
      this.source = 'ended';
      this.pump();
    });
    to.on('drain', () => {
      if (!this.waitingDrain) return;
      this.waitingDrain = false;
      this.pump();
    });
    this.updateFlow();
  }

  /** Bytes read from `from` and not yet written to `to`. */
  get queuedBytes(): number {
    return this.queued;
  }

  /** Starts reading `from`; until then (upstream still connecting) it stays paused. */
  start(): void {
    this.started = true;
    this.pump();
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  setBlackhole(mode: BlackholeMode | undefined): void {
    this.blackholeMode = mode;
    if (mode === 'drop') this.discardQueue();
    this.pump();
  }

  heal(): void {
    this.latencyMs = 0;
    this.setBlackhole(undefined);
  }

  /** Sends FIN to `to` now; whatever is queued or arrives later is dropped. */
  halfClose(): void {
    if (this.destDone) return;
    this.stop();
    if (!this.to.destroyed) this.to.end();
  }

  /** `from` closed: if it never sent FIN, the peer reset it (or we destroyed it). */
  sourceClosed(): void {
    if (this.source === 'open') this.source = 'aborted';
    this.pump();
  }

  /** Stops writing to `to` for good and drops the queue; `from` is still drained. */
  stop(): void {
    this.destDone = true;
    this.clearTimer();
    this.discardQueue();
    this.updateFlow();
  }

  private onData(chunk: Buffer): void {
    if (this.destDone || this.blackholeMode === 'drop') {
      this.bytesDropped += chunk.length;
      return;
    }
    // Never earlier than the chunk before it: lowering the latency must not reorder the stream.
    const due = Math.max(performance.now() + this.latencyMs, this.lastDue);
    this.lastDue = due;
    if (this.queue.length === 0 && this.latencyMs === 0 && this.blackholeMode === undefined && !this.waitingDrain) {
      this.write(chunk);
      return;
    }
    this.queue.push({ data: chunk, due });
    this.queued += chunk.length;
    if (this.timer === undefined) this.pump();
    else this.updateFlow();
  }

  private pump(): void {
    this.clearTimer();
    if (!this.destDone && this.blackholeMode === undefined) {
      const now = performance.now();
      while (this.queue.length > 0 && !this.waitingDrain) {
        const head = this.queue[0]!;
        if (head.due > now) {
          this.timer = setTimeout(() => this.pump(), Math.ceil(head.due - now));
          // stop() clears it; unref so a forgotten proxy cannot hold the process open either.
          this.timer.unref();
          break;
        }
        this.queue.shift();
        this.queued -= head.data.length;
        this.write(head.data);
      }
      if (this.queue.length === 0) this.forwardClose();
    }
    this.updateFlow();
  }

  /** The source's FIN or RST goes out only after every byte it sent before. */
  private forwardClose(): void {
    if (this.destDone || this.source === 'open') return;
    this.destDone = true;
    if (this.source === 'ended') {
      if (!this.to.destroyed) this.to.end();
    } else {
      this.to.resetAndDestroy();
    }
  }

  private write(data: Buffer): void {
    if (this.to.destroyed || this.to.writableEnded) {
      this.bytesDropped += data.length;
      return;
    }
    this.bytesForwarded += data.length;
    if (!this.to.write(data)) this.waitingDrain = true;
  }

  private updateFlow(): void {
    if (this.source !== 'open' || this.from.destroyed) return;
    const pause =
      !this.started ||
      (!this.destDone && (this.blackholeMode === 'hold' || this.queued >= this.maxQueuedBytes));
    if (pause) {
      if (this.from.readableFlowing !== false) this.from.pause();
    } else if (this.from.readableFlowing !== true) {
      this.from.resume();
    }
  }

  private discardQueue(): void {
    this.bytesDropped += this.queued;
    this.queue.length = 0;
    this.queued = 0;
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * What one timed trial of a driver measures, and the shapes shared by the client and
 * baseline drivers.
 *
 * @module
 */

import type { LatencySummary } from '../../lib/cli/bench/stats.js';

/** One trial of (a)/(d): W workers × R acquire+release cycles. */
export interface ThroughputTrial {
  /** Completed acquire+release cycles. */
  readonly ops: number;
  /** Failed cycles (acquire or release errors). */
  readonly errors: number;
  readonly elapsedMs: number;
  /** Cycles per second. */
  readonly opsPerS: number;
  /** Latency of one cycle: subscribe/`l` sent → release acknowledged. */
  readonly latency: LatencySummary;
}

/** One trial of (b): W workers on one key, R acquisitions each. */
export interface HandoffTrial {
  readonly acquisitions: number;
  readonly errors: number;
  readonly elapsedMs: number;
  /** Acquisitions per second (all workers). */
  readonly acquisitionsPerS: number;
  /** Release sent by a holder → `acquired` at a worker already waiting. */
  readonly handoff: LatencySummary;
}

/** Runs one trial; `onOp` is called once per completed operation (for the progress bar). */
export interface ThroughputDriver {
  run(rounds: number, onOp: () => void): Promise<ThroughputTrial>;
}

/** Runs one hand-off trial. */
export interface HandoffDriver {
  run(rounds: number, onOp: () => void): Promise<HandoffTrial>;
}

/**
 * Starts `workers` loops and resolves when every one has called its `done`.
 * Each loop is bounded by its caller (R rounds).
 */
export function runWorkers(workers: number, start: (index: number, done: () => void) => void): Promise<number> {
  return new Promise<number>((resolve) => {
    const startedAt = performance.now();
    let remaining = workers;
    const done = (): void => {
      if (--remaining === 0) resolve(performance.now() - startedAt);
    };
    for (let i = 0; i < workers; i++) start(i, done);
  });
}

/**
 * One worker's loop: each call of the returned function starts the next of `rounds` rounds
 * (`start`), and the call after the last one reports the worker `done`.
 */
export function roundLoop(rounds: number, done: () => void, start: () => void): () => void {
  let round = 0;
  return () => {
    if (round++ === rounds) done();
    else start();
  };
}

/** Rejects with a clear message if `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench: ${what} did not finish within ${ms / 1000} s`)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

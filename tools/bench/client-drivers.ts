/**
 * The client's workloads for (a)/(d) and (b), written as a user would: `client.lock()`, take
 * the first `acquired`, unsubscribe, and wait for `client.events$` to report the release
 * acknowledged before the next round (the baseline waits for its `r` reply too).
 *
 * @module
 */

import type { Subscription } from 'rxjs';
import type { DflockdClient } from '../../lib/client.js';
import type { LockEvent } from '../../lib/lease/events.js';
import type { LockOptions } from '../../lib/options.js';
import { DistributedLock } from '../../lib/facade/distributed-lock.js';
import { LatencySample } from '../../lib/cli/bench/stats.js';
import { HandoffDriver, HandoffTrial, ThroughputDriver, ThroughputTrial, roundLoop, runWorkers } from './trial.js';

const LOCK_OPTIONS: LockOptions = Object.freeze({ acquireTimeoutS: 10 });

/** Routes `released` / `release-failed` events of one client to whoever waits for that token. */
class ReleaseAcks {
  private readonly waiting = new Map<string, (ok: boolean) => void>();
  private readonly subscription: Subscription;

  constructor(client: DflockdClient) {
    this.subscription = client.events$.subscribe((event) => {
      if (event.type !== 'released' && event.type !== 'release-failed') return;
      const callback = this.waiting.get(event.token);
      if (callback === undefined) return;
      this.waiting.delete(event.token);
      callback(event.type === 'released');
    });
  }

  expect(token: string, callback: (ok: boolean) => void): void {
    this.waiting.set(token, callback);
  }

  dispose(): void {
    this.subscription.unsubscribe();
    this.waiting.clear();
  }
}

/**
 * One round of "subscribe, take `acquired`, unsubscribe": calls `onAcquired` with the token and
 * returns nothing; the caller waits for the release via {@link ReleaseAcks}.
 */
function acquireOnce(
  client: DflockdClient,
  key: string,
  onAcquired: (event: LockEvent & { type: 'acquired' }, release: () => void) => void,
  onError: () => void,
  onQueued?: () => void,
): void {
  let subscription: Subscription | undefined;
  let releaseEarly = false;
  let held = false;
  const release = (): void => {
    if (subscription !== undefined) subscription.unsubscribe();
    else releaseEarly = true;
  };
  subscription = client.lock(key, LOCK_OPTIONS).subscribe({
    next: (event) => {
      if (event.type === 'queued') onQueued?.();
      if (event.type !== 'acquired' || held) return;
      held = true;
      onAcquired(event, release);
    },
    error: onError,
  });
  if (releaseEarly) subscription.unsubscribe();
}

/** (a)/(d): worker `i` acquires and releases `keys[i]` through `client`. */
export function clientUncontended(client: DflockdClient, keys: readonly string[]): ThroughputDriver & { dispose(): void } {
  const acks = new ReleaseAcks(client);
  return {
    dispose: () => acks.dispose(),
    async run(rounds: number, onOp: () => void): Promise<ThroughputTrial> {
      const sample = new LatencySample(keys.length * rounds);
      let errors = 0;
      const elapsedMs = await runWorkers(keys.length, (i, done) => {
        const key = keys[i]!;
        let startedAt = 0;
        const onReleased = (ok: boolean): void => {
          if (ok) sample.record(performance.now() - startedAt);
          else errors++;
          onOp();
          next();
        };
        const onAcquired = (event: { token: string }, release: () => void): void => {
          acks.expect(event.token, onReleased);
          release();
        };
        const onError = (): void => {
          errors++;
          onOp();
          next();
        };
        const next = roundLoop(rounds, done, (): void => {
          startedAt = performance.now();
          acquireOnce(client, key, onAcquired, onError);
        });
        next();
      });
      const ops = sample.count;
      return { ops, errors, elapsedMs, opsPerS: (ops * 1000) / elapsedMs, latency: sample.summary() };
    },
  };
}

/** (b): `workers` subscriptions contend for `key`; each releases as soon as it holds. */
export function clientHandoff(client: DflockdClient, key: string, workers: number): HandoffDriver & { dispose(): void } {
  const acks = new ReleaseAcks(client);
  return {
    dispose: () => acks.dispose(),
    async run(rounds: number, onOp: () => void): Promise<HandoffTrial> {
      const sample = new LatencySample(workers * rounds);
      let errors = 0;
      let acquisitions = 0;
      let releaseSentAt = Number.NEGATIVE_INFINITY;
      const elapsedMs = await runWorkers(workers, (_i, done) => {
        let requestedAt = 0;
        const onReleased = (ok: boolean): void => {
          if (!ok) errors++;
          next();
        };
        const onAcquired = (event: { token: string }, release: () => void): void => {
          const now = performance.now();
          acquisitions++;
          // Only a worker that was already waiting when the lock was released is a hand-off.
          if (requestedAt < releaseSentAt) sample.record(now - releaseSentAt);
          onOp();
          acks.expect(event.token, onReleased);
          releaseSentAt = performance.now();
          release();
        };
        const onError = (): void => {
          errors++;
          next();
        };
        const next = roundLoop(rounds, done, (): void => {
          requestedAt = performance.now();
          acquireOnce(client, key, onAcquired, onError);
        });
        next();
      });
      return { acquisitions, errors, elapsedMs, acquisitionsPerS: (acquisitions * 1000) / elapsedMs, handoff: sample.summary() };
    },
  };
}

/**
 * (e), the job loop as users write it with Observables: worker `i` takes `keys[i]`, lets go
 * (unsubscribes) and takes it again at once — not waiting for its release to be acknowledged.
 * A cycle is subscribe → `acquired`. `queued()` counts the `queued` events the loop saw: with
 * nobody else on these keys, every one would be the client queueing behind its own release.
 */
export function observableJobLoop(client: DflockdClient, keys: readonly string[]): ThroughputDriver & { queued(): number } {
  let queued = 0;
  return {
    queued: () => queued,
    async run(rounds: number, onOp: () => void): Promise<ThroughputTrial> {
      const sample = new LatencySample(keys.length * rounds);
      let errors = 0;
      const elapsedMs = await runWorkers(keys.length, (i, done) => {
        const key = keys[i]!;
        let startedAt = 0;
        const onAcquired = (_event: { token: string }, release: () => void): void => {
          sample.record(performance.now() - startedAt);
          release();
          onOp();
          next();
        };
        const onError = (): void => {
          errors++;
          onOp();
          next();
        };
        const next = roundLoop(rounds, done, (): void => {
          startedAt = performance.now();
          acquireOnce(client, key, onAcquired, onError, () => queued++);
        });
        next();
      });
      const ops = sample.count;
      return { ops, errors, elapsedMs, opsPerS: (ops * 1000) / elapsedMs, latency: sample.summary() };
    },
  };
}

/** (e), the job loop with the Promise facade: `await lock.acquire(); …; await lock.release()`, over and over. */
export function facadeJobLoop(client: DflockdClient, keys: readonly string[]): ThroughputDriver & { queued(): number; dispose(): void } {
  const locks = keys.map((key) => new DistributedLock(key, { client, ...LOCK_OPTIONS }));
  let queued = 0;
  const counters = locks.map((lock) =>
    lock.events$.subscribe((event) => {
      if (event.type === 'queued') queued++;
    }),
  );
  return {
    queued: () => queued,
    dispose: () => counters.forEach((c) => c.unsubscribe()),
    async run(rounds: number, onOp: () => void): Promise<ThroughputTrial> {
      const sample = new LatencySample(keys.length * rounds);
      let errors = 0;
      const startedAt = performance.now();
      await Promise.all(
        locks.map(async (lock) => {
          for (let r = 0; r < rounds; r++) {
            const t = performance.now();
            const ok = (await lock.acquire()) && (await lock.release());
            if (ok) sample.record(performance.now() - t);
            else errors++;
            onOp();
          }
        }),
      );
      const elapsedMs = performance.now() - startedAt;
      const ops = sample.count;
      return { ops, errors, elapsedMs, opsPerS: (ops * 1000) / elapsedMs, latency: sample.summary() };
    },
  };
}

import type { Observable, Subscription } from 'rxjs';
import type { LockEvent } from '../../lib/index.js';

/** Subscribes to a lease stream and records what it does, with promises to await each kind of event. */
export class Recorder {
  readonly events: LockEvent[] = [];
  readonly times: number[] = [];
  error: unknown;
  completed = false;
  readonly subscription: Subscription;
  private readonly waiters: Array<{ test: () => boolean; resolve: () => void }> = [];

  constructor(source: Observable<LockEvent>) {
    this.subscription = source.subscribe({
      next: (e) => {
        this.events.push(e);
        this.times.push(performance.now());
        this.poke();
      },
      error: (e: unknown) => {
        this.error = e;
        this.poke();
      },
      complete: () => {
        this.completed = true;
        this.poke();
      },
    });
  }

  /** The event types so far. */
  get types(): string[] {
    return this.events.map((e) => e.type);
  }

  /** Resolves at the first event of `type` (or at once if already seen); rejects if the stream errors first or after `ms`. */
  next<T extends LockEvent['type']>(type: T, ms = 10_000): Promise<Extract<LockEvent, { type: T }>> {
    return this.until(() => this.events.some((e) => e.type === type), `a "${type}" event`, ms).then(
      () => this.events.find((e) => e.type === type) as Extract<LockEvent, { type: T }>,
    );
  }

  /** Resolves once `n` events of `type` were seen; rejects if the stream errors first or after `ms`. */
  count$(type: LockEvent['type'], n: number, ms = 10_000): Promise<void> {
    return this.until(() => this.count(type) >= n, `${n} "${type}" events`, ms);
  }

  /** Resolves with the error the stream ended with. */
  failure(ms = 10_000): Promise<unknown> {
    return this.until(() => this.error !== undefined, 'an error', ms, true).then(() => this.error);
  }

  /** Number of events of a type. */
  count(type: LockEvent['type']): number {
    return this.events.filter((e) => e.type === type).length;
  }

  unsubscribe(): void {
    this.subscription.unsubscribe();
  }

  private until(test: () => boolean, what: string, ms: number, wantError = false): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}; saw [${this.types.join(', ')}]`)), ms);
      const check = (): boolean => {
        if (test()) {
          clearTimeout(timer);
          resolve();
          return true;
        }
        if (!wantError && this.error !== undefined) {
          clearTimeout(timer);
          reject(this.error);
          return true;
        }
        return false;
      };
      if (!check()) this.waiters.push({ test: check, resolve });
    });
  }

  private poke(): void {
    for (const w of [...this.waiters]) if (w.test()) this.waiters.splice(this.waiters.indexOf(w), 1);
  }
}

import type { BlackholeOptions, LatencyOptions } from './faults.js';

/**
 * The fault verbs shared by a whole `FaultProxy` and one `FaultConnection`, including the names
 * API.md uses for them (`delay`, `pause`, `resume`).
 */
export abstract class FaultControls {
  /** Delays forwarded data by `ms`, keeping its order. */
  abstract setLatency(ms: number, options?: LatencyOptions): void;
  /** Stops forwarding without closing anything. */
  abstract blackhole(options?: BlackholeOptions): void;
  /** Clears latency and black-holes. */
  abstract heal(): void;

  /**
   * API.md's name for {@link setLatency}.
   * @example
   * ```ts
   * proxy.delay(200);
   * ```
   */
  delay(ms: number, options: LatencyOptions = {}): void {
    this.setLatency(ms, options);
  }

  /**
   * API.md's name for {@link blackhole}.
   * @example
   * ```ts
   * proxy.pause();
   * ```
   */
  pause(options: BlackholeOptions = {}): void {
    this.blackhole(options);
  }

  /**
   * The opposite of {@link pause}: the same as {@link heal}.
   * @example
   * ```ts
   * proxy.resume();
   * ```
   */
  resume(): void {
    this.heal();
  }
}

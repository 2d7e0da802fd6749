/**
 * Timers that never keep the process alive and accept any delay: Node caps
 * `setTimeout` at 2^31-1 ms (about 24.8 days) and fires at once beyond it,
 * while a dflockd timeout may legitimately be years.
 *
 * @module
 */

const MAX_DELAY = 2_147_483_647;

/** A cancellable one-shot timer. */
export interface Cancelable {
  cancel(): void;
}

/** Runs `fn` once after `ms` milliseconds (unref'd; delays beyond the Node cap are chained). */
export function after(ms: number, fn: () => void): Cancelable {
  let handle: NodeJS.Timeout;
  const deadline = performance.now() + ms;
  const arm = (delay: number): void => {
    handle = setTimeout(() => {
      const left = deadline - performance.now();
      if (left > 1) arm(left);
      else fn();
    }, Math.min(Math.max(delay, 0), MAX_DELAY));
    handle.unref();
  };
  arm(ms);
  return { cancel: () => clearTimeout(handle) };
}

/** Runs `fn` every `ms` milliseconds until cancelled (unref'd). */
export function every(ms: number, fn: () => void): Cancelable {
  const handle = setInterval(fn, Math.min(Math.max(ms, 1), MAX_DELAY));
  handle.unref();
  return { cancel: () => clearInterval(handle) };
}

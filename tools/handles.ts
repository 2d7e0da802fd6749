/**
 * Leak detection for the client: sockets still open towards a port, and timers created by the
 * client's own code (not by the test server, the fault proxy, or the test runner) that are
 * still pending and would keep the process alive.
 */
import { createHook } from 'node:async_hooks';
import * as net from 'node:net';
import * as path from 'node:path';

interface Tracked {
  readonly timer: { hasRef(): boolean; _destroyed?: boolean };
  readonly where: string;
}

const tracked = new Map<number, Tracked>();
let enabled = false;

// The client's sources (lib/ in tests, dist/ when built), minus the testing entry point.
const CLIENT_FRAME = new RegExp(`\\${path.sep}(lib|dist\\${path.sep}(cjs|esm))\\${path.sep}(?!testing)`);

/**
 * Starts recording where every timer is created (idempotent). Only timers created from the
 * client's code are kept.
 */
export function trackClientTimers(): void {
  if (enabled) return;
  enabled = true;
  createHook({
    init(id, type, _trigger, resource) {
      if (type !== 'Timeout') return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 24;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      const frame = stack.split('\n').find((line) => CLIENT_FRAME.test(line) && !line.includes('node_modules'));
      if (frame !== undefined) tracked.set(id, { timer: resource as Tracked['timer'], where: frame.trim() });
    },
    destroy(id) {
      tracked.delete(id);
    },
  }).enable();
}

/** Client timers still pending and keeping the process alive, by creation site. */
export function liveClientTimers(): string[] {
  return [...tracked.values()].filter((t) => t.timer._destroyed !== true && t.timer.hasRef()).map((t) => t.where);
}

/** Sockets still open whose remote end is `port` (the ones a client opened towards it), minus `exclude`. */
export function socketsTo(port: number, exclude: ReadonlySet<net.Socket> = new Set()): net.Socket[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h): h is net.Socket => h instanceof net.Socket && !h.destroyed && h.remotePort === port && !exclude.has(h));
}

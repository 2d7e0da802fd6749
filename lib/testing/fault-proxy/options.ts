import { assertLoopbackHost, assertPort } from './loopback.js';

/**
 * Options of `FaultProxy`. Both ends must be loopback: the proxy is for tests
 * on one machine.
 *
 * @example
 * ```ts
 * const options: FaultProxyOptions = { target: { port: serverPort }, maxQueuedBytes: 64 * 1024 };
 * ```
 */
export interface FaultProxyOptions {
  /** The server to forward to. `host` defaults to `'127.0.0.1'`. */
  readonly target: { readonly host?: string; readonly port: number };
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Port to listen on; 0 picks a free one, reported by `start()`. @default 0 */
  readonly port?: number;
  /**
   * Bytes one direction of one connection may hold (delayed or black-holed)
   * before the proxy stops reading its source; the sender then backs up as on
   * a slow network. @default 1048576 (1 MiB)
   */
  readonly maxQueuedBytes?: number;
}

/** Options with defaults applied, validated. @internal */
export interface ResolvedFaultProxyOptions {
  readonly target: { readonly host: string; readonly port: number };
  readonly host: string;
  readonly port: number;
  readonly maxQueuedBytes: number;
}

const DEFAULTS = Object.freeze({ host: '127.0.0.1', port: 0, maxQueuedBytes: 1024 * 1024 });

/**
 * Applies defaults and validates; every error names the option to change.
 *
 * @internal
 */
export function resolveFaultProxyOptions(options: FaultProxyOptions): ResolvedFaultProxyOptions {
  if (typeof options !== 'object' || options === null || typeof options.target !== 'object' || options.target === null) {
    throw new TypeError('FaultProxy: options.target ({ host?, port }) is required');
  }
  const maxQueuedBytes = options.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes;
  if (!Number.isInteger(maxQueuedBytes) || maxQueuedBytes < 1) {
    throw new RangeError(`FaultProxy: options.maxQueuedBytes must be a positive integer, got ${String(maxQueuedBytes)}`);
  }
  return {
    target: {
      host: assertLoopbackHost(options.target.host ?? DEFAULTS.host, 'options.target.host'),
      port: assertPort(options.target.port, 'options.target.port', 1),
    },
    host: assertLoopbackHost(options.host ?? DEFAULTS.host, 'options.host'),
    port: assertPort(options.port ?? DEFAULTS.port, 'options.port', 0),
    maxQueuedBytes,
  };
}

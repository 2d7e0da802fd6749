/**
 * What `@Locked()` accepts, and how lock failures become HTTP errors by default.
 *
 * @module
 */

import { type ExecutionContext, HttpException, HttpStatus, ServiceUnavailableException } from '@nestjs/common';
import { AcquireTimeoutError, type DflockdError, InvalidArgumentError, LeaseLostError } from '../errors.js';
import type { LockOptions } from '../options.js';

/**
 * The key `@Locked()` locks: a fixed string, or a function of the request's context (called
 * once per request, before acquiring).
 *
 * @example
 * ```ts
 * const byOrder: LockedKey = (ctx) => `order:${ctx.switchToHttp().getRequest<{ params: { id: string } }>().params.id}`;
 * ```
 */
export type LockedKey = string | ((context: ExecutionContext) => string);

/**
 * Options of `@Locked()`: every {@link LockOptions} field, plus a semaphore `limit` and the
 * error mapping.
 *
 * @example
 * ```ts
 * @Locked('reports', { acquireTimeoutS: 2, leaseTtlS: 30, limit: 3 })
 * ```
 */
export interface LockedOptions extends LockOptions {
  /** Take one of `limit` slots of a counting semaphore instead of the exclusive lock. @default undefined (a lock) */
  readonly limit?: number;
  /**
   * Turns a lock failure into what the handler's caller sees (the returned value is thrown).
   * Errors thrown by the handler itself never pass through here.
   * @default lockedErrorToHttpException
   */
  readonly mapError?: (error: DflockdError, context: ExecutionContext) => unknown;
}

/**
 * The default error mapping of `@Locked()`:
 *
 * | failure | HTTP status |
 * |---|---|
 * | `AcquireTimeoutError` (held elsewhere past `acquireTimeoutS`) | 423 Locked |
 * | `LeaseLostError` (the handler's Observable was unsubscribed) | 503 Service Unavailable |
 * | connection, auth and other server errors | 503 Service Unavailable |
 * | `InvalidArgumentError` (a bad key: a bug) | rethrown unchanged, so 500 |
 *
 * The response body stays generic (no key names or server addresses reach the HTTP client);
 * the dflockd error is the exception's `cause`, for logs.
 *
 * @example
 * ```ts
 * @Locked('k', { mapError: (e, ctx) => (e.code === 'timeout' ? new ConflictException() : lockedErrorToHttpException(e)) })
 * ```
 */
export function lockedErrorToHttpException(error: DflockdError): unknown {
  if (error instanceof InvalidArgumentError) return error;
  if (error instanceof AcquireTimeoutError) {
    return new HttpException(
      { statusCode: HttpStatus.LOCKED, error: 'Locked', message: 'The resource is busy: its lock was not acquired in time; try again later' },
      HttpStatus.LOCKED,
      { cause: error },
    );
  }
  if (error instanceof LeaseLostError) return new ServiceUnavailableException('The lock protecting this request was lost; its work was aborted', { cause: error });
  return new ServiceUnavailableException('The lock service is unavailable', { cause: error });
}

/** What `@Locked()` stores as metadata. @internal */
export interface LockedMetadata {
  readonly key: LockedKey;
  readonly options: LockedOptions;
}

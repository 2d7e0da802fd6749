/**
 * The interceptor behind `@Locked()`.
 *
 * @module
 */

import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Observable, catchError, defer, tap, throwError } from 'rxjs';
import { DflockdClient } from '../client.js';
import { DflockdError } from '../errors.js';
import { whileHeld } from '../operators.js';
import { type LockedMetadata, lockedErrorToHttpException } from './locked-options.js';
import { LOCKED_METADATA } from './tokens.js';

/**
 * Acquires the lock named by the route's `@Locked()` metadata before the handler runs, and holds
 * it until the handler's Observable completes (or its Promise settles) — not merely until the
 * method returns. Built on `whileHeld`: a lost lease unsubscribes the handler's Observable and
 * fails the request; completion, an error, or unsubscription releases the lock. Routes without
 * the metadata pass straight through. Apply it with `@Locked()`, which also sets the metadata.
 *
 * @example
 * ```ts
 * @Locked('nightly-report')
 * @Post('report')
 * build(): Observable<Report> { return this.reports.build$(); }
 * ```
 */
@Injectable()
export class LockedInterceptor implements NestInterceptor {
  constructor(
    // Explicit tokens: they work without emitDecoratorMetadata in the consumer's build.
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(DflockdClient) private readonly client: DflockdClient,
  ) {}

  /** Wraps the handler's Observable in the lease; see the class description. */
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const locked = this.reflector.getAllAndOverride<LockedMetadata | undefined>(LOCKED_METADATA, [context.getHandler(), context.getClass()]);
    if (locked === undefined) return next.handle();
    const { limit, mapError = lockedErrorToHttpException, ...lockOptions } = locked.options;
    return defer(() => {
      const key = typeof locked.key === 'function' ? locked.key(context) : locked.key;
      const lease$ = limit === undefined ? this.client.lock(key, lockOptions) : this.client.semaphore(key, limit, lockOptions);
      // The handler's own errors pass through untouched, even a DflockdError from its own locks.
      let handlerFailed = false;
      return lease$.pipe(
        // next.handle() is lazy: the handler runs only once the lease is held.
        whileHeld(() => next.handle().pipe(tap({ error: () => (handlerFailed = true) }))),
        catchError((error: unknown) => throwError(() => (!handlerFailed && error instanceof DflockdError ? mapError(error, context) : error))),
      );
    });
  }
}

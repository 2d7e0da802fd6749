/**
 * `@Locked()`: serialise a route (or every route of a controller) on a dflockd lock.
 *
 * @module
 */

import { SetMetadata, UseInterceptors, applyDecorators } from '@nestjs/common';
import { checkInteger, checkKey } from '../protocol/validate.js';
import { resolveLockOptions } from '../options.js';
import { LockedInterceptor } from './locked-interceptor.js';
import type { LockedKey, LockedMetadata, LockedOptions } from './locked-options.js';
import { LOCKED_METADATA } from './tokens.js';

/**
 * Runs the decorated handler under the dflockd lock `key` (or one of `options.limit` semaphore
 * slots), acquired before it starts and held until its returned Observable completes or its
 * Promise settles. If the lease is lost meanwhile, the handler's Observable is unsubscribed
 * (aborting its work) and the request fails. Failures map to HTTP errors by default: acquire
 * timeout → 423 Locked; lease lost, connection or server errors → 503 Service Unavailable (see
 * `lockedErrorToHttpException`; override with `options.mapError`).
 *
 * Needs `DflockdModule.forRoot()` or `forRootAsync()` in the application. Guards run before it
 * (a refused request never waits for the lock); interceptors listed after it run inside the lock.
 * Only Observables can be aborted: a Promise-returning handler keeps running after a lost lease
 * (its request still fails with 503).
 *
 * @param key A fixed key (checked now), or a function of the ExecutionContext called per request.
 * @param options Lock options (`acquireTimeoutS` defaults to 10 s, which is long for an HTTP
 *   request: consider 0–2), `limit`, `mapError`.
 * @throws InvalidArgumentError at decoration time for a bad fixed key or option.
 * @example
 * ```ts
 * @Controller('orders')
 * class OrdersController {
 *   @Post(':id/ship')
 *   @Locked((ctx) => `order:${ctx.switchToHttp().getRequest().params.id}`, { acquireTimeoutS: 2 })
 *   ship(@Param('id') id: string): Observable<Shipment> { return this.shipping.ship$(id); }
 * }
 * ```
 */
export function Locked(key: LockedKey, options: LockedOptions = {}): MethodDecorator & ClassDecorator {
  // Fail at startup, not on the first request.
  if (typeof key !== 'function') checkKey(key);
  if (options.limit !== undefined) checkInteger(options.limit, 'limit', 1);
  resolveLockOptions(options, { renewRatio: 0.5 });
  const metadata: LockedMetadata = { key, options };
  return applyDecorators(SetMetadata(LOCKED_METADATA, metadata), UseInterceptors(LockedInterceptor));
}

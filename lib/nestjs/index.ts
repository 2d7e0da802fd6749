/**
 * dflockd-rx/nestjs — the NestJS integration: `DflockdModule` provides a `DflockdClient` to the
 * whole application, and `@Locked()` runs a route under a dflockd lock until its Observable
 * completes. Needs the optional peers `@nestjs/common`, `@nestjs/core` and `reflect-metadata`;
 * nothing else in dflockd-rx loads them.
 *
 * @example
 * ```ts
 * import { DflockdModule, Locked } from 'dflockd-rx/nestjs';
 *
 * @Controller() class ReportsController {
 *   @Post('report') @Locked('report', { acquireTimeoutS: 0 }) build(): Observable<Report> { … }
 * }
 * @Module({ imports: [DflockdModule.forRoot({ servers: ['127.0.0.1:6388'] })], controllers: [ReportsController] })
 * export class AppModule {}
 * ```
 * @packageDocumentation
 */

// ── The module and its tokens ───────────────────────────────────────────────────────
export { DflockdModule } from './dflockd-module.js';
export type { DflockdModuleAsyncOptions } from './dflockd-module.js';
export { DFLOCKD_CLIENT, DFLOCKD_MODULE_OPTIONS } from './tokens.js';

// ── @Locked() ───────────────────────────────────────────────────────────────────────
export { Locked } from './locked.js';
export { LockedInterceptor } from './locked-interceptor.js';
export { lockedErrorToHttpException } from './locked-options.js';
export type { LockedKey, LockedOptions } from './locked-options.js';

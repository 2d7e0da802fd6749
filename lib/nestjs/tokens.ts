/**
 * Injection tokens of the NestJS integration.
 *
 * @module
 */

/**
 * Injection token of the module's `DflockdClient` — the same instance as the class token
 * `DflockdClient`. A string, so it still matches when an application ends up with two copies of
 * this package (a class or a Symbol would not).
 *
 * @example
 * ```ts
 * constructor(@Inject(DFLOCKD_CLIENT) private readonly locks: DflockdClient) {}
 * ```
 */
export const DFLOCKD_CLIENT = 'dflockd-rx:DflockdClient';

/**
 * Injection token of the `ClientOptions` the client was built from (`forRoot`'s argument,
 * or what `forRootAsync`'s factory returned).
 *
 * @example
 * ```ts
 * constructor(@Inject(DFLOCKD_MODULE_OPTIONS) options: ClientOptions) {}
 * ```
 */
export const DFLOCKD_MODULE_OPTIONS = 'dflockd-rx:ClientOptions';

/** Metadata key under which `@Locked()` stores its key and options. @internal */
export const LOCKED_METADATA = 'dflockd-rx:locked';

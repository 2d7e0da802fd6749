/**
 * `DflockdModule`: one {@link DflockdClient} for the whole Nest application.
 *
 * @module
 */

import { type DynamicModule, Global, Inject, type InjectionToken, Module, type ModuleMetadata, type OnApplicationShutdown, type OptionalFactoryDependency, type Provider } from '@nestjs/common';
import { DflockdClient } from '../client.js';
import type { ClientOptions } from '../options.js';
import { DFLOCKD_CLIENT, DFLOCKD_MODULE_OPTIONS } from './tokens.js';

/**
 * Options of {@link DflockdModule.forRootAsync}: a factory for the {@link ClientOptions}, the
 * providers it needs, and the modules that export them.
 *
 * @example
 * ```ts
 * DflockdModule.forRootAsync({
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ servers: config.get('DFLOCKD_SERVERS').split(',') }),
 * });
 * ```
 */
export interface DflockdModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Builds the client options; may be async. Receives the `inject` providers, in order. */
  // `any[]`, as in Nest's own FactoryProvider: the factory's parameter types are the user's.
  readonly useFactory: (...args: any[]) => ClientOptions | Promise<ClientOptions>;
  /** Providers passed to `useFactory`. @default [] */
  readonly inject?: Array<InjectionToken | OptionalFactoryDependency>;
}

const clientProviders: Provider[] = [
  { provide: DflockdClient, useFactory: (options: ClientOptions) => new DflockdClient(options), inject: [DFLOCKD_MODULE_OPTIONS] },
  { provide: DFLOCKD_CLIENT, useExisting: DflockdClient },
];

/**
 * A global module providing one {@link DflockdClient} (injectable by its class or by
 * {@link DFLOCKD_CLIENT}) for `@Locked()` and your own services. On application shutdown
 * (`app.close()`, or a signal with `enableShutdownHooks()`), after the HTTP server has stopped
 * taking requests, it calls `client.close()`: everything still held is released.
 *
 * @example
 * ```ts
 * @Module({ imports: [DflockdModule.forRoot({ servers: ['10.0.0.5:6388'] })], controllers: [OrdersController] })
 * class AppModule {}
 * ```
 */
@Global()
@Module({})
export class DflockdModule implements OnApplicationShutdown {
  constructor(@Inject(DflockdClient) private readonly client: DflockdClient) {}

  /** The module with a client built from `options` (validated when the module is instantiated). */
  static forRoot(options: ClientOptions = {}): DynamicModule {
    return {
      module: DflockdModule,
      global: true,
      providers: [{ provide: DFLOCKD_MODULE_OPTIONS, useValue: options }, ...clientProviders],
      exports: [DflockdClient, DFLOCKD_CLIENT, DFLOCKD_MODULE_OPTIONS],
    };
  }

  /** The module with a client built from what `useFactory` returns (from configuration, secrets…). */
  static forRootAsync(options: DflockdModuleAsyncOptions): DynamicModule {
    return {
      module: DflockdModule,
      global: true,
      imports: options.imports ?? [],
      providers: [{ provide: DFLOCKD_MODULE_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }, ...clientProviders],
      exports: [DflockdClient, DFLOCKD_CLIENT, DFLOCKD_MODULE_OPTIONS],
    };
  }

  /** Releases every lock still held and closes the client's connections. */
  onApplicationShutdown(): Promise<void> {
    return this.client.close();
  }
}

/**
 * An Angular service for dflockd locks taken from the browser, over the server's HTTP API.
 *
 * One `DflockdHttpClient` (one HTTP session) per application: the service is a root singleton
 * and closes the client when the application is destroyed, which releases whatever it still
 * holds. Configure it with the {@link DFLOCKD_HTTP} token:
 *
 * ```ts
 * bootstrapApplication(AppComponent, {
 *   providers: [{ provide: DFLOCKD_HTTP, useValue: { url: 'https://locks.example.com:6389' } }],
 * });
 * ```
 */
import { Injectable, InjectionToken, inject, type OnDestroy } from '@angular/core';
import type { Observable } from 'rxjs';
import { DflockdHttpClient, type HttpClientOptions, type LockEvent, type LockOptions, type WithLockWork } from 'dflockd-rx/http';

/** The options of the application's `DflockdHttpClient`: at least the server's HTTP `url`. */
export const DFLOCKD_HTTP = new InjectionToken<HttpClientOptions>('DFLOCKD_HTTP');

@Injectable({ providedIn: 'root' })
export class DflockdLockService implements OnDestroy {
  // inject(), not constructor parameters: JIT and esbuild need no decorator metadata for it.
  private readonly client = new DflockdHttpClient(inject(DFLOCKD_HTTP));

  /**
   * The lease events of `key` (`queued` → `acquired` → `renewed` … → `lost`); cold: the lock
   * is requested on subscribe and released (or the place in the queue given up) on unsubscribe.
   * Bind it with the `async` pipe or `toSignal` and Angular releases it with the component.
   */
  lock$(key: string, options?: LockOptions): Observable<LockEvent> {
    return this.client.lock(key, options);
  }

  /**
   * Runs `work` while holding `key` and releases when it settles; the work's `signal` aborts if
   * the lease is lost, and `options.signal` gives the acquisition up while it waits.
   */
  withLock<T>(key: string, work: WithLockWork<T>, options?: LockOptions & { readonly signal?: AbortSignal }): Promise<T> {
    return this.client.withLock(key, work, options);
  }

  /** The application is going away: end the session, releasing everything it holds. */
  ngOnDestroy(): void {
    void this.client.close();
  }
}

/**
 * Bootstraps the Angular example in the browser: JIT (the `@angular/compiler` import compiles
 * the component's template at start-up, so a plain esbuild bundle is enough) and zoneless change
 * detection (signals tell Angular what changed; no zone.js).
 *
 * Open `index.html?server=http://127.0.0.1:6389&key=report` next to the bundle of this file.
 */
import '@angular/compiler';
import { Component, provideZonelessChangeDetection } from '@angular/core';
import { bootstrapApplication } from '@angular/platform-browser';
import { DFLOCKD_HTTP } from './dflockd-lock.service';
import { LockStatusComponent } from './lock-status.component';

const params = new URLSearchParams(location.search);

@Component({
  selector: 'app-root',
  imports: [LockStatusComponent],
  template: `<app-lock-status [key]="key" />`,
})
class AppComponent {
  protected readonly key = params.get('key') ?? 'report';
}

bootstrapApplication(AppComponent, {
  providers: [provideZonelessChangeDetection(), { provide: DFLOCKD_HTTP, useValue: { url: params.get('server') ?? 'http://127.0.0.1:6389' } }],
}).then(
  () => document.body.setAttribute('data-bootstrapped', 'true'),
  (error: unknown) => {
    document.body.setAttribute('data-bootstrapped', 'failed');
    console.error(error);
  },
);

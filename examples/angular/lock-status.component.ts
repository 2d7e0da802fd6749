/**
 * A standalone component that holds a lock while it is shown and says where it stands.
 * "Release" gives the lock up (or the place in the queue); "Run a job" takes the lock a second
 * way, with `withLock`, once the first is released.
 */
import { ChangeDetectionStrategy, Component, DestroyRef, Input, inject, signal, type OnInit } from '@angular/core';
import type { Subscription } from 'rxjs';
import { DflockdLockService } from './dflockd-lock.service';

@Component({
  selector: 'app-lock-status',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h1>Lock <code>{{ key }}</code></h1>
    <p>State: <output id="state" [attr.data-state]="state()">{{ state() }}</output></p>
    <p><code id="token">{{ token() }}</code></p>
    <button id="release" type="button" (click)="release()">Release</button>
    <button id="job" type="button" (click)="runJob()">Run a job</button>
    <p>Job: <output id="job-state" [attr.data-state]="job()">{{ job() }}</output></p>
  `,
})
export class LockStatusComponent implements OnInit {
  /**
   * The key to hold. A decorated input rather than `input()`: in JIT only the decorator tells
   * Angular that the field is an input (the AOT compiler finds `input()` fields by itself).
   */
  @Input({ required: true }) key = '';

  protected readonly state = signal('starting');
  protected readonly token = signal('');
  protected readonly job = signal('idle');

  private readonly locks = inject(DflockdLockService);
  private lease: Subscription | undefined;

  constructor() {
    // Leaving the page (or destroying the component) releases the lock too.
    inject(DestroyRef).onDestroy(() => this.release());
  }

  ngOnInit(): void {
    this.lease = this.locks.lock$(this.key, { acquireTimeoutS: 60, leaseTtlS: 10 }).subscribe({
      next: (event) => {
        // Renewals keep it held: the state stays `acquired`.
        this.state.set(event.type === 'renewed' ? 'acquired' : event.type);
        if (event.type === 'acquired') this.token.set(event.token);
      },
      error: () => this.state.set('error'),
    });
  }

  protected release(): void {
    if (this.lease === undefined || this.lease.closed) return;
    this.lease.unsubscribe();
    this.state.set('released');
  }

  protected runJob(): void {
    this.job.set('waiting');
    this.locks
      .withLock(this.key, async (_signal, lease) => {
        this.job.set('running');
        this.token.set(lease.token);
      })
      .then(
        () => this.job.set('done'),
        () => this.job.set('failed'),
      );
  }
}

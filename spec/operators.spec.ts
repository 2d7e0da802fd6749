import { EMPTY, NEVER, Observable, catchError, finalize, firstValueFrom, interval, lastValueFrom, map, of, startWith, take, timer, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { LeaseLostError } from '../lib/errors.js';
import type { AcquiredEvent, LockEvent, LostEvent } from '../lib/lease/events.js';
import { whileHeld } from '../lib/operators.js';

// whileHeld is pure: these tests drive it with hand-made lease streams on virtual time.
const q: LockEvent = { type: 'queued', key: 'k' };
const a: AcquiredEvent = { type: 'acquired', key: 'k', token: 't1', leaseS: 10, expiresAt: 9_800 };
const r: LockEvent = { type: 'renewed', key: 'k', token: 't1', leaseS: 10, expiresAt: 19_800 };
const l: LostEvent = { type: 'lost', key: 'k', token: 't1', reason: 'deadline' };
const events = { q, a, r, l };

/** Errors as values, so a marble can say which error arrived. */
const named = catchError((error: unknown) => of(error instanceof LeaseLostError ? `lost:${error.reason}` : error instanceof Error ? `error:${error.message}` : 'error:?'));

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('whileHeld on virtual time', () => {
  test('project runs once acquired; queued and renewed pass unseen; its values are the stream', () => {
    const projected: AcquiredEvent[] = [];
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('q-a-r---', events);
      const inner = cold('-x-y', { x: 1, y: 2 });
      const out = source.pipe(
        whileHeld((lease) => {
          projected.push(lease);
          return inner;
        }),
      );
      expectObservable(out).toBe('---x-y--', { x: 1, y: 2 });
      expectSubscriptions(inner.subscriptions).toBe('--^-----');
    });
    expect(projected).toEqual([a]);
  });

  test('a throw in project errors the stream with that error and unsubscribes the lease (= releases)', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('q-a-r---', events);
      const out = source.pipe(
        whileHeld(() => {
          throw new Error('boom');
        }),
        named,
      );
      expectObservable(out).toBe('--(e|)', { e: 'error:boom' });
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  test('an error from the work errors the stream and releases', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a------', events);
      const inner = cold('-x#', { x: 1 }, new Error('work failed'));
      expectObservable(source.pipe(whileHeld(() => inner), named)).toBe('--x(e|)', { x: 1, e: 'error:work failed' });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  test('a lease lost mid-work: LeaseLostError, the work torn down, the lease stream left', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a--l|', events);
      const inner = cold('-x---y', { x: 1, y: 2 });
      expectObservable(source.pipe(whileHeld(() => inner), named)).toBe('--x-(e|)', { x: 1, e: 'lost:deadline' });
      expectSubscriptions(inner.subscriptions).toBe('-^--!');
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  test('the work completing completes the stream and so unsubscribes the lease (= releases)', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-r----', events);
      const inner = cold('-x|', { x: 1 });
      expectObservable(source.pipe(whileHeld(() => inner))).toBe('--x|', { x: 1 });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  test('synchronous first emission with take(1): the work and the lease are both torn down at once', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a------', events);
      const inner = cold('x-y-z', { x: 1, y: 2, z: 3 });
      expectObservable(source.pipe(whileHeld(() => inner), take(1))).toBe('-(x|)', { x: 1 });
      expectSubscriptions(inner.subscriptions).toBe('-(^!)');
      expectSubscriptions(source.subscriptions).toBe('^!');
    });
  });

  test('an acquire failure (the source errors before acquired) is the error; project never runs', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const project = jest.fn(() => EMPTY);
      expectObservable(cold('-q-#', events, new Error('timeout')).pipe(whileHeld(project), named)).toBe('---(e|)', { e: 'error:timeout' });
    });
  });

  test('unsubscribing downstream tears down the work and the lease', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a------', events);
      const inner = cold('-x-y-z', { x: 1, y: 2, z: 3 });
      expectObservable(source.pipe(whileHeld(() => inner)), '^---!').toBe('--x-', { x: 1 });
      expectSubscriptions(inner.subscriptions).toBe('-^--!');
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });
});

describe('whileHeld: order of teardown', () => {
  test('on lease loss the work is torn down before the error reaches the subscriber', () => {
    const order: string[] = [];
    const source = new Observable<LockEvent>((subscriber) => {
      subscriber.next(a);
      subscriber.next(l);
    });
    source.pipe(whileHeld(() => NEVER.pipe(finalize(() => order.push('work torn down'))))).subscribe({
      error: (error: unknown) => order.push(error instanceof LeaseLostError ? 'LeaseLostError' : 'other error'),
    });
    expect(order).toEqual(['work torn down', 'LeaseLostError']);
  });
});

describe('whileHeld with synchronous sources and real timers', () => {
  test('a lease granted later, a work that emits synchronously, firstValueFrom: the work is torn down at once', async () => {
    let workLeft = false;
    const source = timer(1).pipe(map((): LockEvent => a));
    const value = await firstValueFrom(source.pipe(whileHeld(() => interval(50).pipe(startWith(-1), finalize(() => (workLeft = true))))));
    expect(value).toBe(-1);
    // Checked before any interval tick: a work left running would keep the process alive.
    expect(workLeft).toBe(true);
  });

  test('a source that emits synchronously works (and its work\'s values all arrive)', async () => {
    expect(await lastValueFrom(of(q, a).pipe(whileHeld(() => of(1, 2, 3)), toArray()))).toEqual([1, 2, 3]);
  });

  test('a synchronous source that never completes: firstValueFrom gets the value and leaves the lease', async () => {
    let leaseLeft = false;
    const source = new Observable<LockEvent>((subscriber) => {
      subscriber.next(a);
      return () => (leaseLeft = true);
    });
    expect(await firstValueFrom(source.pipe(whileHeld(() => of('done'))))).toBe('done');
    expect(leaseLeft).toBe(true);
  });

  test('take(1) on a work that emits synchronously: the interval behind it is torn down at once', async () => {
    let workLeft = false;
    let leaseLeft = false;
    const source = new Observable<LockEvent>((subscriber) => {
      subscriber.next(a);
      return () => (leaseLeft = true);
    });
    const value = await firstValueFrom(
      source.pipe(
        whileHeld(() => interval(50).pipe(startWith(-1), finalize(() => (workLeft = true)))),
        take(1),
      ),
    );
    expect(value).toBe(-1);
    // Synchronous: no interval tick ever ran, and nothing is left to keep the process alive.
    expect(workLeft).toBe(true);
    expect(leaseLeft).toBe(true);
  });
});

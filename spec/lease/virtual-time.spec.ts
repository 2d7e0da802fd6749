import { Observable, VirtualAction, VirtualTimeScheduler } from 'rxjs';
import { AcquireTimeoutError, ConnectionError } from '../../lib/errors.js';
import type { Connection } from '../../lib/connection/connection.js';
import type { ServerPool } from '../../lib/connection/pool.js';
import type { LockEvent } from '../../lib/lease/events.js';
import { ContendedKeys } from '../../lib/lease/contended-keys.js';
import { OwnReleases } from '../../lib/lease/own-releases.js';
import { LeaseContext, LeaseReport, TwoPhaseControl, runLease } from '../../lib/lease/lease-stream.js';
import { RenewScheduler } from '../../lib/lease/renew-scheduler.js';
import { MemorySocket, memoryConnection } from '../helpers/memory-socket.js';

// The acquisition and the held lease on virtual time: every renewal, deadline and heartbeat at
// the exact virtual millisecond, over an in-memory socket the spec answers by hand.

const TOKEN = '0123456789abcdef0123456789abcdef';
const IDLE_MS = 23_000;

interface Rig {
  readonly scheduler: VirtualTimeScheduler;
  readonly socket: MemorySocket;
  readonly conn: Connection;
  readonly events: Array<{ at: number; event: LockEvent }>;
  /** Errors the recorded streams ended with. */
  readonly errors: unknown[];
  /** A second connection, which the pool hands out as the least busy once `useSecond` is set. */
  readonly second: { readonly socket: MemorySocket; readonly conn: Connection };
  useSecond: boolean;
  readonly reports: LeaseReport[];
  /** Runs every action due up to `at` (virtual ms) and leaves the clock at `at`. */
  advanceTo(at: number): void;
  lock(key: string, options?: { leaseTtlS?: number; acquireTimeoutS?: number }, twoPhase?: TwoPhaseControl): Observable<LockEvent>;
}

function rig(requestTimeoutMs = 10_000, idleMs = IDLE_MS): Rig {
  const scheduler = new VirtualTimeScheduler(VirtualAction, Infinity);
  const { socket, conn } = memoryConnection(scheduler, requestTimeoutMs);
  const second = memoryConnection(scheduler, requestTimeoutMs);
  // One connection serves every purpose (unless a spec asks for the second): the pool's choices
  // are not what these specs are about.
  const pool = {
    server: 'memory:1',
    sharedNow: () => (result.useSecond ? second.conn : conn),
    dedicatedNow: () => (result.useSecond ? second.conn : conn),
    adopt: () => undefined,
  } as unknown as ServerPool;
  const events: Rig['events'] = [];
  const reports: LeaseReport[] = [];
  const context: LeaseContext = {
    acquisition: {
      scheduler,
      timing: { renewRatio: 0.5, heartbeatMs: idleMs * 0.6, idleTimeoutMs: idleMs },
      requestTimeoutMs,
      dedicatedConnections: false,
      queuedHeartbeatMs: idleMs * 0.4,
    },
    held: { scheduler, wheel: new RenewScheduler(scheduler), fencing: false },
    emitted: () => undefined,
    report: (r) => reports.push(r),
    // No renewal brought forward at random: every wake-up at its exact virtual time.
    jitter: () => 0,
  };
  const contended = new ContendedKeys(() => scheduler.now());
  const ownReleases = new OwnReleases();
  const result: Rig = {
    scheduler,
    socket,
    conn,
    second,
    useSecond: false,
    events,
    errors: [],
    reports,
    advanceTo(at: number): void {
      scheduler.schedule(() => undefined, at - scheduler.now());
      scheduler.maxFrames = at;
      scheduler.flush();
    },
    lock: (key, options = {}, twoPhase) =>
      new Observable<LockEvent>((subscriber) => {
        const teardown = runLease(subscriber, context, {
          key,
          limit: undefined,
          options: { acquireTimeoutS: options.acquireTimeoutS ?? 10, leaseTtlS: options.leaseTtlS, renewRatio: 0.5 },
          pool,
          contended,
          ownReleases,
          twoPhase,
        });
        return () => teardown.unsubscribe();
      }),
  };
  return result;
}

function record(r: Rig, source: Observable<LockEvent>): { unsubscribe(): void } {
  return source.subscribe({
    next: (event) => r.events.push({ at: r.scheduler.now(), event }),
    error: (error: unknown) => r.errors.push(error),
  });
}

test('renewals at lease × ratio, each from its send time; the deadline moves with every renewal', () => {
  const r = rig();
  const sub = record(r, r.lock('k', { leaseTtlS: 10 }));
  expect(r.socket.requests).toEqual(['l k 0 10']);
  r.advanceTo(40);
  r.socket.reply(`ok ${TOKEN} 10`);
  // 10 s lease, sent at 0: margin 200 ms.
  expect(r.events).toEqual([{ at: 40, event: { type: 'acquired', key: 'k', token: TOKEN, leaseS: 10, expiresAt: 9_800 } }]);
  r.advanceTo(4_999);
  expect(r.socket.requests).toHaveLength(1);
  r.advanceTo(5_025); // the renewal wheel's 25 ms slot
  expect(r.socket.requests.at(-1)).toBe(`n k ${TOKEN} 10`);
  const renewSentAt = 5_000;
  r.advanceTo(5_100);
  r.socket.reply('ok 10');
  expect(r.events.at(-1)).toEqual({ at: 5_100, event: { type: 'renewed', key: 'k', token: TOKEN, leaseS: 10, expiresAt: renewSentAt + 9_800 } });
  sub.unsubscribe();
  expect(r.socket.requests.at(-1)).toBe(`r k ${TOKEN}`);
  expect(r.socket.open).toBe(true);
});

test('a renewal unanswered: lost(deadline) at the deadline to the millisecond, its r written after its n, the connection kept', () => {
  const r = rig();
  record(r, r.lock('k', { leaseTtlS: 2 }));
  r.socket.reply(`ok ${TOKEN} 2`); // at 0: deadline 2000 − 50
  r.advanceTo(1_025);
  expect(r.socket.requests).toEqual(['l k 0 2', `n k ${TOKEN} 2`]);
  r.advanceTo(1_949);
  expect(r.events.map((e) => e.event.type)).toEqual(['acquired']);
  r.advanceTo(1_950);
  expect(r.events.at(-1)).toEqual({ at: 1_950, event: { type: 'lost', key: 'k', token: TOKEN, reason: 'deadline', error: undefined } });
  // The lease's own trouble stays its own: `r` after the late `n`, on the same open connection.
  expect(r.socket.requests).toEqual(['l k 0 2', `n k ${TOKEN} 2`, `r k ${TOKEN}`]);
  expect(r.socket.open).toBe(true);
  expect(r.conn.holds).toBe(0);
  // The late renewal reply and the release reply land on an ended lease: nothing more is emitted.
  r.socket.reply('ok 2');
  r.socket.reply('ok');
  expect(r.events).toHaveLength(2);
  expect(r.reports.at(-1)).toMatchObject({ type: 'released', ok: true });
});

test('a grant whose reply took longer than half its lease is confirmed with a renewal before acquired', () => {
  const r = rig();
  record(r, r.lock('k', { leaseTtlS: 2 }));
  r.advanceTo(1_200);
  r.socket.reply(`ok ${TOKEN} 2`);
  expect(r.events).toEqual([]);
  expect(r.socket.requests.at(-1)).toBe(`n k ${TOKEN} 2`);
  r.advanceTo(1_300);
  r.socket.reply('ok 2');
  // The deadline counts from the confirmation's send time.
  expect(r.events).toEqual([{ at: 1_300, event: { type: 'acquired', key: 'k', token: TOKEN, leaseS: 2, expiresAt: 1_200 + 1_950 } }]);
});

test('two-phase: while queued and not waiting, the connection sends a heartbeat every 40% of the idle timeout', () => {
  const r = rig();
  let status: string | undefined;
  let startWait: ((timeoutS: number) => void) | undefined;
  record(
    r,
    r.lock('k', {}, {
      enqueued: (s) => (status = s),
      setWaiter: (start) => (startWait = start),
    }),
  );
  expect(r.socket.requests).toEqual(['e k']);
  r.socket.reply('queued');
  expect(status).toBe('queued');
  expect(r.events.map((e) => e.event.type)).toEqual(['queued']);
  const every = IDLE_MS * 0.4;
  for (let i = 1; i <= 3; i++) {
    r.advanceTo(every * i);
    expect(r.socket.requests).toHaveLength(1 + i);
    expect(r.socket.requests.at(-1)).toBe('ping _');
    r.socket.reply('ok'); // answered: the connection's watchdog stays quiet
  }
  startWait!(5);
  expect(r.socket.requests.at(-1)).toBe('w k 5');
  // Just before the watchdog's verdict on the wait (its own 5 s plus requestTimeoutS).
  r.advanceTo(every * 3 + 5_000 + 10_000 - 1);
  // Waiting: no more heartbeats (the `w` blocks the server's reader anyway).
  expect(r.socket.requests.filter((q) => q.startsWith('ping'))).toHaveLength(3);
  expect(r.errors).toEqual([]);
});

test("nobody answers a try-lock: the connection's ConnectionError at requestTimeoutS, never an AcquireTimeoutError", () => {
  const r = rig(2_000);
  let failure: unknown;
  r.lock('k').subscribe({ error: (e: unknown) => (failure = e) });
  r.advanceTo(1_999);
  expect(failure).toBeUndefined();
  r.advanceTo(2_000);
  expect(failure).toBeInstanceOf(ConnectionError);
  expect(failure).not.toBeInstanceOf(AcquireTimeoutError);
  expect((failure as Error).message).toMatch(/requestTimeoutS=2/);
  expect(r.socket.closed).toBe('destroyed');
});

test('a renewal unanswered for requestTimeoutS: the connection is declared broken and its lease lost as disconnected, before the lease deadline', () => {
  const r = rig(2_000);
  record(r, r.lock('k', { leaseTtlS: 60 }));
  r.socket.reply(`ok ${TOKEN} 60`);
  // Renewals every 60% of the 23 s idle timeout; the claim ends at the idle timeout (22.54 s).
  r.advanceTo(13_825);
  expect(r.socket.requests.at(-1)).toBe(`n k ${TOKEN} 60`);
  r.advanceTo(13_800 + 2_000);
  expect(r.events.at(-1)?.event).toMatchObject({ type: 'lost', reason: 'disconnected' });
  expect((r.events.at(-1)!.event as { error?: unknown }).error).toBeInstanceOf(ConnectionError);
  expect(r.socket.closed).toBe('destroyed');
});

/**
 * A scripted server: grants every `l`, renews every `n` with the lease asked for, confirms every
 * `r`, each answer `toServerMs` + `toClientMs` after the request (processed on arrival).
 */
function serve(r: Rig, toServerMs: number, toClientMs: number): { renewals: number[] } {
  const renewals: number[] = [];
  r.socket.onRequest = (request) => {
    const [verb, , arg = ''] = request.split(' ');
    const parts = request.split(' ');
    const answer = verb === 'l' ? `ok ${TOKEN} ${arg === '0' ? parts[3] : arg}` : verb === 'n' ? `ok ${parts[3]}` : 'ok';
    if (verb === 'n') renewals.push(r.scheduler.now());
    r.scheduler.schedule(() => r.socket.reply(answer), toServerMs + toClientMs);
  };
  return { renewals };
}

test.each<readonly [string, number, number, number, number, number]>([
  // label, lease s, server idle timeout s, → server ms, → client ms, expected renewal interval ms
  ['read timeout 2 s, lease 10 s: renewals at the heartbeat (1.2 s), not at lease × ratio', 10, 2, 5, 5, 1_200],
  ['200 ms each way on a 2 s lease: renewals every second, each 400 ms in flight', 2, 23, 200, 200, 1_000],
  ['replies 600 ms late on a 3 s lease', 3, 23, 0, 600, 1_500],
])('%s — 100 cycles on virtual time, never lost', (_label, leaseS, idleS, toServerMs, toClientMs, interval) => {
  const r = rig(10_000, idleS * 1000);
  const { renewals } = serve(r, toServerMs, toClientMs);
  const sub = record(r, r.lock('k', { leaseTtlS: leaseS }));
  r.advanceTo(interval * 100 + 500);
  expect(r.events.map((e) => e.event.type).filter((t) => t !== 'renewed')).toEqual(['acquired']);
  expect(r.events.filter((e) => e.event.type === 'renewed').length).toBeGreaterThanOrEqual(99);
  // Each renewal follows the previous one's send by the interval (the wheel's 25 ms slot at most later).
  for (let i = 1; i < renewals.length; i++) {
    const gap = renewals[i]! - renewals[i - 1]!;
    expect(gap).toBeGreaterThanOrEqual(interval);
    expect(gap).toBeLessThanOrEqual(interval + 25);
  }
  sub.unsubscribe();
  expect(r.socket.requests.at(-1)).toBe(`r k ${TOKEN}`);
});

test("re-taking a key while this client's own r of it is unanswered: the try-lock follows the r on its connection", () => {
  const r = rig();
  const first = record(r, r.lock('job'));
  r.socket.reply(`ok ${TOKEN} 33`);
  first.unsubscribe();
  expect(r.socket.requests).toEqual(['l job 0', `r job ${TOKEN}`]);
  // The pool would now pick the other (idle) connection, where the try-lock could overtake the r.
  r.useSecond = true;
  record(r, r.lock('job'));
  expect(r.socket.requests).toEqual(['l job 0', `r job ${TOKEN}`, 'l job 0']);
  expect(r.second.socket.requests).toEqual([]);
  r.socket.reply('ok');
  r.socket.reply(`ok ${TOKEN.replace('0', 'f')} 33`);
  expect(r.events.map((e) => e.event.type)).toEqual(['acquired', 'acquired']);
  // Once the r is answered, acquisitions go wherever the pool says again.
  const third = record(r, r.lock('other'));
  expect(r.second.socket.requests).toEqual(['l other 0']);
  third.unsubscribe();
});

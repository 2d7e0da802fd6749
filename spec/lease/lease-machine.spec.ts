import { DflockdError, ServerError, ConnectionError } from '../../lib/errors';
import type { LockEvent, LostReason } from '../../lib/lease/events';
import {
  LiveLease,
  LeaseEffect,
  LeaseInput,
  LeaseState,
  LeaseStep,
  LeaseTiming,
  deadlineMargin,
  leaseStep,
  renewInterval,
  startLease,
} from '../../lib/lease/lease-machine';
// Deterministic, so failures reproduce.
import { mulberry32 } from '../../tools/prng';

const KEY = 'orders';
const TOKEN = '0123456789abcdef0123456789abcdef';
/** Default client timing: ratio 0.5, heartbeat 40% of the 23 s server idle timeout. */
const T: LeaseTiming = { renewRatio: 0.5, heartbeatMs: 9_200 };

const step = (state: LeaseState, input: LeaseInput, timing: LeaseTiming = T): LeaseStep => leaseStep(KEY, live(state), input, timing);

/** The state as a live lease: only those can be stepped (an ended lease has no transition, by its type). */
function live(state: LeaseState): LiveLease {
  expect(['held', 'renewing']).toContain(state.phase);
  return state as LiveLease;
}

const start = (o: { sentAt: number; now: number; leaseS?: number }, timing: LeaseTiming = T): LeaseStep =>
  startLease(KEY, { token: TOKEN, leaseS: o.leaseS ?? 10, sentAt: o.sentAt, now: o.now }, timing);

/** A held state after the grant (sent at `sentAt`, lease 10 s unless told). */
function held(sentAt = 1_000, leaseS = 10, timing: LeaseTiming = T): LiveLease {
  const s = start({ sentAt, now: sentAt + 40, leaseS }, timing).state;
  expect(s.phase).toBe('held');
  return s as LiveLease;
}

/** A renewing state: granted at `sentAt`, then the renew went out at its renewAt. */
function renewing(sentAt = 1_000): LiveLease {
  const h = held(sentAt);
  const s = step(h, { type: 'tick', now: h.renewAt }).state;
  expect(s.phase).toBe('renewing');
  return s as LiveLease;
}

describe('deadlineMargin: 2% of the lease, between 50 ms and 1 s', () => {
  it.each([
    [1_000, 50],
    [2_500, 50],
    [5_000, 100],
    [10_000, 200],
    [33_000, 660],
    [50_000, 1_000],
    [60_000, 1_000],
    [3_600_000, 1_000],
  ])('lease %i ms → %i ms', (leaseMs, margin) => {
    expect(deadlineMargin(leaseMs)).toBe(margin);
  });
});

describe('renewInterval: lease × ratio, capped by the heartbeat', () => {
  it.each<readonly [number, LeaseTiming, number]>([
    [10_000, { renewRatio: 0.5, heartbeatMs: 9_200 }, 5_000],
    [33_000, { renewRatio: 0.5, heartbeatMs: 9_200 }, 9_200],
    [10_000, { renewRatio: 0.5, heartbeatMs: 800 }, 800],
    [10_000, { renewRatio: 0.25, heartbeatMs: 9_200 }, 2_500],
    [120_000, { renewRatio: 0.9, heartbeatMs: 9_200 }, 9_200],
  ])('lease %i ms, %j → %i ms', (leaseMs, timing, interval) => {
    expect(renewInterval(leaseMs, timing)).toBe(interval);
  });
});

describe('leaseStep', () => {
  describe('startLease (the grant)', () => {
    it('emits acquired with expiresAt = sentAt + lease − margin and schedules the renew at sentAt + lease × ratio', () => {
      const r = start({ sentAt: 1_000, now: 1_040, leaseS: 10 });
      expect(r.state).toMatchObject({ phase: 'held', token: TOKEN, leaseS: 10, deadline: 10_800, renewAt: 6_000 });
      expect(r.effects).toEqual([
        { type: 'emit', event: { type: 'acquired', key: KEY, token: TOKEN, leaseS: 10, expiresAt: 10_800 } },
        { type: 'schedule', at: 6_000 },
      ]);
    });

    it('bases the deadline on the send time, not on the reply time', () => {
      const r = start({ sentAt: 1_000, now: 4_000, leaseS: 10 });
      expect(r.state).toMatchObject({ phase: 'held', deadline: 10_800, renewAt: 6_000 });
    });

    it('a 33 s lease: the margin and the heartbeat', () => {
      const r = start({ sentAt: 0, now: 500, leaseS: 33 });
      // 33 s lease: margin 660 ms; interval min(16.5 s, 9.2 s heartbeat) = 9.2 s.
      expect(r.state).toMatchObject({ phase: 'held', deadline: 32_340, renewAt: 9_200 });
      expect(r.effects).toEqual([
        { type: 'emit', event: { type: 'acquired', key: KEY, token: TOKEN, leaseS: 33, expiresAt: 32_340 } },
        { type: 'schedule', at: 9_200 },
      ]);
    });

    it('schedules renewals at the heartbeat when it is shorter than lease × ratio (serverIdle 2 s, lease 10 s)', () => {
      const timing: LeaseTiming = { renewRatio: 0.5, heartbeatMs: 800 };
      const r = start({ sentAt: 0, now: 30, leaseS: 10 }, timing);
      expect(r.state).toMatchObject({ phase: 'held', deadline: 9_800, renewAt: 800 });
      expect(r.effects.at(-1)).toEqual({ type: 'schedule', at: 800 });
    });

    it('a grant that arrives after its own deadline is lost at once', () => {
      const r = start({ sentAt: 0, now: 20_000, leaseS: 10 });
      expect(r.state).toEqual({ phase: 'lost', reason: 'deadline' });
      expect(r.effects.map((e) => e.type)).toEqual(['emit', 'send-release', 'cancel-timer', 'emit', 'complete']);
      expect(r.effects[0]).toMatchObject({ event: { type: 'acquired' } });
      expect(r.effects[3]).toMatchObject({ event: { type: 'lost', reason: 'deadline' } });
    });
  });

  describe('tick', () => {
    it('before renewAt does nothing but reschedule', () => {
      const h = held();
      for (const now of [1_040, 3_000, 5_999]) {
        const r = step(h, { type: 'tick', now });
        expect(r.effects).toEqual([{ type: 'schedule', at: 6_000 }]);
        expect(r.state).toEqual(h);
      }
    });

    it('at renewAt sends the renew with the lease and goes renewing', () => {
      const h = held();
      const r = step(h, { type: 'tick', now: 6_000 });
      expect(r.state).toMatchObject({ phase: 'renewing', token: TOKEN, renewSentAt: 6_000, deadline: 10_800 });
      expect(r.effects).toEqual([
        { type: 'send-renew', token: TOKEN, leaseS: 10 },
        { type: 'schedule', at: 10_800 },
      ]);
    });

    it('late (after renewAt, before the deadline) still renews, recording the real send time', () => {
      const r = step(held(), { type: 'tick', now: 7_500 });
      expect(r.state).toMatchObject({ phase: 'renewing', renewSentAt: 7_500 });
      expect(r.effects[0]).toEqual({ type: 'send-renew', token: TOKEN, leaseS: 10 });
    });

    it('while renewing, only re-arms the deadline (never a second renew in flight)', () => {
      const s = renewing();
      for (const now of [6_001, 9_000, 10_799]) {
        const r = step(s, { type: 'tick', now });
        expect(r.effects).toEqual([{ type: 'schedule', at: 10_800 }]);
        expect(r.state).toEqual(s);
      }
    });

    it('a stalled renew: at the deadline, its own release (after the renew, on the same connection) + lost(deadline) + complete — never a connection closed', () => {
      const r = step(renewing(), { type: 'tick', now: 10_800 });
      expect(r.state).toEqual({ phase: 'lost', reason: 'deadline' });
      expect(r.effects).toEqual([
        { type: 'send-release', token: TOKEN },
        { type: 'cancel-timer' },
        { type: 'emit', event: { type: 'lost', key: KEY, token: TOKEN, reason: 'deadline', error: undefined } },
        { type: 'complete' },
      ]);
    });

    it('a tick that comes too late while held loses the lease instead of renewing', () => {
      const r = step(held(), { type: 'tick', now: 12_000 });
      expect(r.state).toEqual({ phase: 'lost', reason: 'deadline' });
      expect(r.effects.some((e) => e.type === 'send-renew')).toBe(false);
      expect(r.effects[0]).toEqual({ type: 'send-release', token: TOKEN });
    });
  });

  describe('renew-ok', () => {
    it('emits renewed with the deadline counted from the renew SEND time', () => {
      const r = step(renewing(), { type: 'renew-ok', leaseS: 10, now: 6_400 });
      expect(r.state).toMatchObject({ phase: 'held', token: TOKEN, leaseS: 10, deadline: 15_800, renewAt: 11_000 });
      expect(r.effects).toEqual([
        { type: 'emit', event: { type: 'renewed', key: KEY, token: TOKEN, leaseS: 10, expiresAt: 15_800 } },
        { type: 'schedule', at: 11_000 },
      ]);
    });

    it('uses the lease the server granted', () => {
      const r = step(renewing(), { type: 'renew-ok', leaseS: 20, now: 6_100 });
      // 20 s lease: margin 400 ms; interval min(10 s, 9.2 s) = 9.2 s.
      expect(r.state).toMatchObject({ phase: 'held', leaseS: 20, deadline: 25_600, renewAt: 15_200 });
      const next = step(r.state, { type: 'tick', now: 15_200 });
      expect(next.effects[0]).toEqual({ type: 'send-renew', token: TOKEN, leaseS: 20 });
    });

    it('a reply that lands after the next renewAt renews again at once', () => {
      const s = renewing(); // sent at 6000
      const r = step(s, { type: 'renew-ok', leaseS: 10, now: 11_500 });
      expect(r.effects.map((e) => e.type)).toEqual(['emit', 'send-renew', 'schedule']);
      expect(r.state).toMatchObject({ phase: 'renewing', renewSentAt: 11_500, deadline: 15_800 });
    });
  });

  describe('losing the lease', () => {
    const error = new ServerError('gone', { key: KEY, command: 'n' });

    it.each(['held', 'renewing'] as const)('renew-failed while %s → lost(expired) with the error', (phase) => {
      const s = phase === 'held' ? held() : renewing();
      const r = step(s, { type: 'renew-failed', reason: 'expired', error });
      expect(r.state).toEqual({ phase: 'lost', reason: 'expired' });
      expect(r.effects).toEqual([
        { type: 'cancel-timer' },
        { type: 'emit', event: { type: 'lost', key: KEY, token: TOKEN, reason: 'expired', error } },
        { type: 'complete' },
      ]);
    });

    it.each<readonly [LostReason, 'held' | 'renewing']>([
      ['disconnected', 'held'],
      ['disconnected', 'renewing'],
      ['server-shutdown', 'held'],
      ['server-shutdown', 'renewing'],
    ])('disconnected(%s) while %s → lost with that reason', (reason, phase) => {
      const s = phase === 'held' ? held() : renewing();
      const err = new ConnectionError('closed', { server: 'h:1' });
      const r = step(s, { type: 'disconnected', reason, error: err });
      expect(r.state).toEqual({ phase: 'lost', reason });
      expect(r.effects).toEqual([
        { type: 'cancel-timer' },
        { type: 'emit', event: { type: 'lost', key: KEY, token: TOKEN, reason, error: err } },
        { type: 'complete' },
      ]);
    });
  });

  describe('release', () => {
    it.each(['held', 'renewing'] as const)('while %s → send-release first, then cancel-timer; no lost event', (phase) => {
      const s = phase === 'held' ? held() : renewing();
      const r = step(s, { type: 'release' });
      expect(r.state).toEqual({ phase: 'released' });
      // The `r` leaves before any bookkeeping: the next waiter's hand-off waits for nothing else.
      expect(r.effects).toEqual([{ type: 'send-release', token: TOKEN }, { type: 'cancel-timer' }]);
      // Nothing can arrive afterwards: an ended lease has no transition. The check is the
      // compiler's — ts-jest fails this file if the line below ever type-checks.
      const ended = r.state;
      // @ts-expect-error an ended lease cannot be stepped: leaseStep takes live leases only
      const stepEnded = (): LeaseStep => leaseStep(KEY, ended, { type: 'tick', now: 20_000 }, T);
      expect(stepEnded).toBeInstanceOf(Function);
    });
  });

  describe('shutdown (the client is closing)', () => {
    it.each([['held', () => held()], ['renewing', () => renewing()]] as const)('while %s → release, then lost(disconnected) and complete', (_phase, make) => {
      const err = new DflockdError('CONNECTION_CLOSED', 'closed');
      const s = make();
      const r = step(s, { type: 'shutdown', error: err });
      expect(r.state).toEqual({ phase: 'lost', reason: 'disconnected' });
      expect(r.effects.map((e) => e.type)).toEqual(['send-release', 'cancel-timer', 'emit', 'complete']);
      expect(r.effects[2]).toMatchObject({ event: { type: 'lost', reason: 'disconnected', error: err } });
    });
  });

  describe('inputs in the wrong phase are ignored', () => {
    it('held ignores renew-ok (no renewal in flight)', () => {
      const s = held();
      const r = step(s, { type: 'renew-ok', leaseS: 10, now: 5_000 });
      expect(r.state).toBe(s);
      expect(r.effects).toEqual([]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Whole lifetimes on a fake clock: a driver that carries out the effects, and a model server
// that processes each request half-way through its round trip and really expires the lease.

interface SimConfig {
  readonly leaseS: number;
  readonly timing: LeaseTiming;
  /** Round-trip time of the grant. */
  readonly grantLatency: number;
  /** Round-trip time of renew `i` (0-based); `undefined` = the reply never comes (stalled connection). */
  readonly renewLatency: (i: number) => number | undefined;
  /** Lease the server grants on renew `i` (default: the one asked for). */
  readonly serverLeaseS?: (i: number) => number;
  /** Stop (release) after this many successful renewals. */
  readonly stopAfterOks: number;
  /**
   * Check at every step that the machine's deadline is inside the server's lease. Off only when
   * the model server grants a shorter lease than asked: the machine cannot know that before the reply.
   */
  readonly checkServerExpiry?: boolean;
}

interface SimResult {
  readonly events: { at: number; event: LockEvent }[];
  readonly sends: number[];
  readonly oks: { sentAt: number; at: number; leaseS: number }[];
  /** When the lease wrote its own release at its deadline. */
  readonly closedAt: number | undefined;
  readonly completedAt: number | undefined;
  readonly released: boolean;
  readonly finalState: LeaseState;
  readonly grantSentAt: number;
}

function simulate(cfg: SimConfig): SimResult {
  let now = 0;
  let state: LeaseState = { phase: 'released' };
  let releasing = false;
  let timerAt: number | undefined;
  let pending: { at: number; ok: boolean; leaseS: number; sentAt: number } | undefined;
  // The model server's view: the lease is valid while time < serverExpiry.
  let serverExpiry = -Infinity;
  const res: SimResult & { closedAt: number | undefined; completedAt: number | undefined; released: boolean } = {
    events: [],
    sends: [],
    oks: [],
    closedAt: undefined,
    completedAt: undefined,
    released: false,
    finalState: state,
    grantSentAt: 0,
  };

  const run = (effect: LeaseEffect): void => {
    switch (effect.type) {
      case 'emit':
        res.events.push({ at: now, event: effect.event });
        if (cfg.checkServerExpiry !== false && (effect.event.type === 'acquired' || effect.event.type === 'renewed')) {
          // The machine never promises more than the server gives.
          expect(effect.event.expiresAt).toBeLessThan(serverExpiry);
        }
        return;
      case 'schedule':
        // Wake-ups are always in the future: no busy loop, no missed deadline.
        expect(effect.at).toBeGreaterThan(now);
        timerAt = effect.at;
        return;
      case 'cancel-timer':
        timerAt = undefined;
        return;
      case 'send-renew': {
        expect(pending).toBeUndefined(); // one renew in flight at a time
        expect(effect.token).toBe(TOKEN);
        expect(effect.leaseS).toBe(res.oks.at(-1)?.leaseS ?? cfg.leaseS);
        const i = res.sends.length;
        res.sends.push(now);
        const rtt = cfg.renewLatency(i);
        if (rtt === undefined) return;
        const processedAt = now + rtt / 2;
        const ok = processedAt < serverExpiry;
        const leaseS = cfg.serverLeaseS?.(i) ?? effect.leaseS;
        if (ok) serverExpiry = processedAt + leaseS * 1000;
        pending = { at: now + rtt, ok, leaseS, sentAt: now };
        return;
      }
      case 'send-release':
        // Asked for by the subscriber, or the lease's own at its deadline (then a renew reply still
        // on its way lands on an ended lease: it is dropped).
        if (releasing) res.released = true;
        else res.closedAt = now;
        pending = undefined;
        return;
      case 'complete':
        res.completedAt = now;
        return;
    }
  };
  const apply = (input: LeaseInput | 'start'): void => {
    const r = input === 'start' ? startLease(KEY, { token: TOKEN, leaseS: cfg.leaseS, sentAt: 0, now }, cfg.timing) : leaseStep(KEY, live(state), input, cfg.timing);
    if (input !== 'start' && input.type === 'release') releasing = true;
    state = r.state;
    for (const e of r.effects) run(e);
    if (cfg.checkServerExpiry !== false && (state.phase === 'held' || state.phase === 'renewing')) {
      // Invariant: the machine never thinks it holds a lease the server has expired.
      expect(now).toBeLessThan(serverExpiry);
      expect(state.deadline).toBeLessThan(serverExpiry);
    }
  };

  // Grant: sent at 0, processed half-way, reply after grantLatency.
  serverExpiry = cfg.grantLatency / 2 + cfg.leaseS * 1000;
  now = cfg.grantLatency;
  apply('start');

  for (let guard = 0; guard < 100_000 && res.completedAt === undefined && !res.released; guard++) {
    if (res.oks.length >= cfg.stopAfterOks) {
      apply({ type: 'release' });
      break;
    }
    const timerFirst = timerAt !== undefined && (pending === undefined || timerAt <= pending.at);
    if (timerFirst) {
      now = timerAt!;
      timerAt = undefined;
      apply({ type: 'tick', now });
    } else if (pending !== undefined) {
      const p = pending;
      pending = undefined;
      now = p.at;
      if (p.ok) {
        res.oks.push({ sentAt: p.sentAt, at: now, leaseS: p.leaseS });
        apply({ type: 'renew-ok', leaseS: p.leaseS, now });
      } else {
        apply({ type: 'renew-failed', reason: 'expired', error: new ServerError('error', { key: KEY, command: 'n' }) });
      }
    } else {
      throw new Error(`simulation stuck in ${state.phase} at ${now}`);
    }
  }
  return { ...res, finalState: state };
}

describe('a whole lease lifetime on a fake clock', () => {
  it('100 renew cycles with prompt replies: the lease never lapses, renewals every lease × ratio', () => {
    const rand = mulberry32(1);
    const r = simulate({
      leaseS: 10,
      timing: T,
      grantLatency: 30,
      renewLatency: () => Math.floor(rand() * 2_000),
      stopAfterOks: 100,
    });
    expect(r.events.filter((e) => e.event.type === 'lost')).toEqual([]);
    expect(r.events.map((e) => e.event.type)).toEqual(['acquired', ...Array<string>(100).fill('renewed')]);
    expect(r.released).toBe(true);
    expect(r.closedAt).toBeUndefined();
    // Sends exactly every 5 s, the first 5 s after the grant was sent.
    expect(r.sends).toHaveLength(100);
    r.sends.forEach((at, i) => expect(at).toBe((i + 1) * 5_000));
    // Each renewed event's expiresAt is its renew's send time + lease − margin.
    const renewed = r.events.filter((e) => e.event.type === 'renewed').map((e) => (e.event as { expiresAt: number }).expiresAt);
    renewed.forEach((expiresAt, i) => expect(expiresAt).toBe(r.oks[i]!.sentAt + 9_800));
  });

  it('renewals at the heartbeat when it is shorter than lease × ratio (serverIdle 2 s → heartbeat 800 ms, lease 10 s)', () => {
    const r = simulate({
      leaseS: 10,
      timing: { renewRatio: 0.5, heartbeatMs: 800 },
      grantLatency: 10,
      renewLatency: () => 20,
      stopAfterOks: 100,
    });
    expect(r.events.some((e) => e.event.type === 'lost')).toBe(false);
    const gaps = r.sends.map((at, i) => at - (i === 0 ? 0 : r.sends[i - 1]!));
    expect(gaps).toEqual(Array<number>(100).fill(800));
    // Never silent longer than the server's 2 s idle timeout.
    expect(Math.max(...gaps)).toBeLessThan(2_000);
  });

  it('after 100 good cycles the connection stalls: lost(deadline) at lastRenewSentAt + lease − margin, never later', () => {
    const r = simulate({
      leaseS: 10,
      timing: T,
      grantLatency: 30,
      renewLatency: (i) => (i < 100 ? 150 : undefined),
      stopAfterOks: Infinity,
    });
    expect(r.oks).toHaveLength(100);
    const last = r.oks.at(-1)!;
    const lost = r.events.at(-1)!;
    expect(lost.event).toEqual({ type: 'lost', key: KEY, token: TOKEN, reason: 'deadline', error: undefined });
    expect(lost.at).toBe(last.sentAt + 10_000 - 200);
    expect(lost.at).toBeLessThanOrEqual(last.sentAt + 10_000);
    expect(r.closedAt).toBe(lost.at);
    expect(r.completedAt).toBe(lost.at);
    expect(r.finalState).toEqual({ phase: 'lost', reason: 'deadline' });
    // The stalled renew (the 101st) was sent at its time, before the deadline.
    expect(r.sends).toHaveLength(101);
    expect(r.sends[100]).toBe(last.sentAt + 5_000);
  });

  it('the server shortening the lease on renew moves the deadline accordingly', () => {
    const r = simulate({
      leaseS: 10,
      timing: T,
      grantLatency: 30,
      renewLatency: (i) => (i < 3 ? 100 : undefined),
      serverLeaseS: (i) => (i === 2 ? 4 : 10),
      stopAfterOks: Infinity,
      checkServerExpiry: false,
    });
    const last = r.oks.at(-1)!;
    expect(last.leaseS).toBe(4);
    const lost = r.events.at(-1)!;
    expect(lost.event.type).toBe('lost');
    // 4 s lease: margin 80 ms.
    expect(lost.at).toBe(last.sentAt + 4_000 - 80);
  });

  /** A run with random lease, timing and latencies: mostly quick replies, some longer than the whole lease, a stall in half the runs. */
  function randomRun(seed: number): SimResult & { leaseS: number } {
    const rand = mulberry32(seed);
    const leaseS = 1 + Math.floor(rand() * 30);
    const timing: LeaseTiming = { renewRatio: 0.1 + rand() * 0.8, heartbeatMs: 500 + rand() * 10_000 };
    // Half the runs stall at some point; the others only see latency.
    const stallAt = rand() < 0.5 ? Math.floor(rand() * 150) : Infinity;
    const r = simulate({
      leaseS,
      timing,
      grantLatency: Math.floor(rand() * 200),
      renewLatency: (i) => (i >= stallAt ? undefined : rand() < 0.98 ? rand() * 300 : rand() * leaseS * 1_500),
      stopAfterOks: 100,
    });
    return { ...r, leaseS };
  }
  const SEEDS = Array.from({ length: 40 }, (_, i) => i + 1);

  it.each(SEEDS)('random latencies (seed %i): lost only ever at or before sentAt + lease of the last good renew', (seed) => {
    const r = randomRun(seed);
    const lostEvents = r.events.filter((e) => e.event.type === 'lost');
    if (r.released) {
      expect(lostEvents).toHaveLength(0);
      expect(r.oks).toHaveLength(100);
      return;
    }
    expect(lostEvents).toHaveLength(1);
    const lost = r.events.at(-1)!;
    expect(lost.event.type).toBe('lost'); // always the last event
    const base = r.oks.at(-1) ?? { sentAt: 0, leaseS: r.leaseS };
    expect(lost.at).toBeLessThanOrEqual(base.sentAt + base.leaseS * 1000);
    expect(r.completedAt).toBe(lost.at);
  });

  it('the random runs cover both outcomes (100 cycles survived, and lease lost)', () => {
    const runs = SEEDS.map(randomRun);
    expect(runs.filter((r) => r.released).length).toBeGreaterThan(0);
    expect(runs.filter((r) => !r.released).length).toBeGreaterThan(0);
    // …and some losses happen after many successful renewals, not only at the start.
    expect(runs.some((r) => !r.released && r.oks.length >= 20)).toBe(true);
  });
});

describe('a renew ratio close to 1', () => {
  test.each([0.96, 0.99, 0.999])('ratio %p still renews before the deadline', (renewRatio) => {
    const timing = { renewRatio, heartbeatMs: 9_200 };
    const step = startLease('k', { token: 't', leaseS: 5, sentAt: 0, now: 10 }, timing);
    const held = step.state as { renewAt: number; deadline: number };
    expect(held.renewAt).toBeLessThan(held.deadline);
    const tick = leaseStep('k', live(step.state), { type: 'tick', now: held.renewAt }, timing);
    expect(tick.effects.map((e) => e.type)).toContain('send-renew');
    expect(tick.state.phase).toBe('renewing');
  });
});

describe('the server idle timeout bounds every claim', () => {
  // The server drops a connection silent for its read timeout and auto-releases its locks, so a
  // partitioned holder must give up within that time even when its lease is much longer.
  const timing = { renewRatio: 0.5, heartbeatMs: 800, idleTimeoutMs: 2_000 };

  test('granted: the deadline is the idle timeout minus its margin, not the lease', () => {
    const step = startLease('k', { token: 't', leaseS: 6, sentAt: 100, now: 110 }, timing);
    const held = step.state as { deadline: number; renewAt: number };
    expect(held.deadline).toBe(100 + 2_000 - 50);
    expect(held.renewAt).toBe(100 + 800);
  });

  test('renew-ok: the deadline moves to the renewal send time plus the idle timeout', () => {
    let step = startLease('k', { token: 't', leaseS: 6, sentAt: 0, now: 5 }, timing);
    step = leaseStep('k', live(step.state), { type: 'tick', now: 800 }, timing);
    step = leaseStep('k', live(step.state), { type: 'renew-ok', leaseS: 6, now: 820 }, timing);
    expect((step.state as { deadline: number }).deadline).toBe(800 + 1_950);
  });

  test('a silent server: lost(deadline) at the idle bound, well before the lease would end', () => {
    let step = startLease('k', { token: 't', leaseS: 6, sentAt: 0, now: 5 }, timing);
    step = leaseStep('k', live(step.state), { type: 'tick', now: 800 }, timing); // renew sent, never answered
    step = leaseStep('k', live(step.state), { type: 'tick', now: 1_950 }, timing);
    expect(step.state).toEqual({ phase: 'lost', reason: 'deadline' });
  });
});

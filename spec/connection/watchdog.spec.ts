import { Subject, VirtualTimeScheduler } from 'rxjs';
import { Connection, ConnectionHolder } from '../../lib/connection/connection';
import { ConnectionError, DflockdError, DrainingError } from '../../lib/errors';
import { enqueueRequest, lockRequest, pingRequest, releaseRequest, renewRequest, statsRequest, waitRequest } from '../../lib/protocol/commands';
import type { Reply } from '../../lib/protocol/replies';
import type { LineSocket } from '../../lib/transport/line-socket';

// The reply watchdog, the heartbeat and draining on virtual time, over an in-memory LineSocket.

interface FakeSocket {
  socket: LineSocket;
  lines: Subject<string>;
  sent: string[];
  destroyed: () => boolean;
  closed: () => boolean;
}

function fakeSocket(): FakeSocket {
  const lines = new Subject<string>();
  const sent: string[] = [];
  let destroyed = false;
  let closed = false;
  const socket: LineSocket = {
    lines$: lines.asObservable(),
    remote: 'fake:1',
    get open() {
      return !destroyed && !closed;
    },
    send: (text) => void sent.push(text),
    close: () => void (closed = true),
    destroy: () => void (destroyed = true),
    setKeepAlive: () => undefined,
  };
  return { socket, lines, sent, destroyed: () => destroyed, closed: () => closed };
}

type Outcome = { error: DflockdError | undefined; reply: Reply | undefined } | undefined;

/** A callback that records its one call (read it synchronously: virtual time runs synchronously). */
function recorder(): { callback: (error: DflockdError | undefined, reply: Reply | undefined) => void; get: () => Outcome } {
  let outcome: Outcome;
  return {
    callback: (error, reply) => {
      if (outcome !== undefined) throw new Error('called twice');
      outcome = { error, reply };
    },
    get: () => outcome,
  };
}

/** Runs every virtual action due at or before `t`, and leaves the clock at `t`. */
function advanceTo(scheduler: VirtualTimeScheduler, t: number): void {
  scheduler.maxFrames = t;
  scheduler.flush();
  scheduler.frame = t;
}

function setup(requestTimeoutMs = 1_000): { scheduler: VirtualTimeScheduler; fake: FakeSocket; conn: Connection } {
  const scheduler = new VirtualTimeScheduler();
  const fake = fakeSocket();
  const conn = new Connection(fake.socket, { server: 'fake:1', scheduler, requestTimeoutMs });
  return { scheduler, fake, conn };
}

describe('Connection reply watchdog', () => {
  it('declares the connection broken when the head request is unanswered for requestTimeoutMs: destroy, fail pending, tell holders, run onClose', () => {
    const { scheduler, fake, conn } = setup(1_000);
    const closedWith: DflockdError[] = [];
    conn.onClose((error) => closedWith.push(error));
    const holder: ConnectionHolder & { lost: DflockdError[] } = { holderIndex: -1, lost: [], connectionClosed: (e) => holder.lost.push(e) };
    conn.hold(holder);
    const renew = recorder();
    const release = recorder();
    conn.send(renewRequest('orders', 'tok', 30), renew.callback);
    conn.send(releaseRequest('orders', 'tok'), release.callback);

    advanceTo(scheduler, 999);
    expect(conn.open).toBe(true);
    expect(renew.get()).toBeUndefined();

    advanceTo(scheduler, 1_000);
    expect(conn.open).toBe(false);
    expect(fake.destroyed()).toBe(true);
    for (const r of [renew, release]) {
      const error = r.get()!.error!;
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.code).toBe('CONNECTION_CLOSED');
      expect(error.message).toContain('fake:1');
      expect(error.message).toContain('no reply within requestTimeoutS=1');
      expect(error.key).toBe('orders');
    }
    expect(renew.get()!.error!.message).toContain('(n on fake:1)');
    expect(release.get()!.error!.command).toBe('r');
    expect(closedWith).toHaveLength(1);
    expect(closedWith[0]!.message).toContain('no reply within requestTimeoutS=1');
    expect(holder.lost).toEqual(closedWith);
    expect(scheduler.actions).toHaveLength(0);
  });

  it('a reply in time moves the deadline: the next head is late requestTimeoutMs after it became the head', () => {
    const { scheduler, fake, conn } = setup(1_000);
    const a = recorder();
    const b = recorder();
    conn.send(lockRequest('a', 0), a.callback);
    conn.send(lockRequest('b', 0), b.callback);
    advanceTo(scheduler, 900);
    fake.lines.next('ok t1 33');
    expect(a.get()!.reply).toEqual({ kind: 'granted', token: 't1', leaseS: 33 });
    // 1,000 ms after `b` was sent, but only 100 ms after it became the head.
    advanceTo(scheduler, 1_500);
    expect(conn.open).toBe(true);
    advanceTo(scheduler, 1_900);
    expect(conn.open).toBe(false);
    expect(b.get()!.error!.message).toContain('key "b" (l on fake:1)');
  });

  it('keeps no timer before the first request, one however many are in flight, and lets it lapse once nothing is pending', () => {
    const { scheduler, fake, conn } = setup(1_000);
    expect(scheduler.actions).toHaveLength(0);
    for (let i = 0; i < 20; i++) conn.send(lockRequest(`k${i}`, 0), () => undefined);
    expect(scheduler.actions).toHaveLength(1);
    for (let i = 0; i < 20; i++) fake.lines.next('timeout');
    // Quiet now: the armed timer is not cancelled and re-armed per idle gap; a request sent
    // meanwhile reuses it.
    expect(scheduler.actions).toHaveLength(1);
    conn.send(lockRequest('again', 0), () => undefined);
    expect(scheduler.actions).toHaveLength(1);
    fake.lines.next('timeout');
    // It fires at its time, finds nothing due, and stops: no timer is left.
    advanceTo(scheduler, 1_000);
    expect(scheduler.actions).toHaveLength(0);
    advanceTo(scheduler, 60_000);
    expect(conn.open).toBe(true);
    conn.close();
  });

  it('a request queued behind a blocking wait is not late while the wait legitimately blocks; the wait gets its own timeout on top', () => {
    const { scheduler, fake, conn } = setup(1_000);
    const enq = recorder();
    const w = recorder();
    const r = recorder();
    conn.sendPair(enqueueRequest('q'), enq.callback, waitRequest('q', 5), w.callback);
    conn.send(releaseRequest('other', 'tok'), r.callback);
    fake.lines.next('queued');
    // The wait is the head from t=0: allowed 5 s + 1 s.
    advanceTo(scheduler, 5_999);
    expect(conn.open).toBe(true);
    fake.lines.next('ok tok 33');
    expect(w.get()!.reply).toMatchObject({ kind: 'granted' });
    // The release became the head at 5,999: late at 6,999, not before.
    advanceTo(scheduler, 6_998);
    expect(conn.open).toBe(true);
    advanceTo(scheduler, 6_999);
    expect(conn.open).toBe(false);
    expect(r.get()!.error).toBeInstanceOf(ConnectionError);
  });

  it('a blocking request that overruns its own timeout by requestTimeoutMs breaks the connection', () => {
    const { scheduler, conn } = setup(2_000);
    const l = recorder();
    conn.send(lockRequest('held', 3), l.callback);
    advanceTo(scheduler, 4_999);
    expect(conn.open).toBe(true);
    advanceTo(scheduler, 5_000);
    expect(conn.open).toBe(false);
    expect(l.get()!.error!.message).toContain('no reply within requestTimeoutS=2');
    expect(l.get()!.error!.message).toContain('beyond its own 3 s');
  });

  it('names no placeholder key for keyless commands', () => {
    const { scheduler, conn } = setup(500);
    const s = recorder();
    conn.send(statsRequest(), s.callback);
    advanceTo(scheduler, 500);
    const error = s.get()!.error!;
    expect(error.key).toBeUndefined();
    expect(error.message).toContain('(stats on fake:1)');
    expect(error.message).not.toContain('_');
  });

  it('a status reply naming a keyless command carries no key either', () => {
    const { fake, conn } = setup();
    const s = recorder();
    conn.send(statsRequest(), s.callback);
    fake.lines.next('error_max_locks');
    expect(s.get()!.error!.key).toBeUndefined();
    expect(s.get()!.error!.message).not.toContain('"_"');
    conn.close();
  });
});

describe('Connection.heartbeat', () => {
  it('pings where the server answers ping with ok', () => {
    const { fake, conn } = setup();
    conn.heartbeat();
    expect(fake.sent).toEqual(['ping\n_\n\n']);
    fake.lines.next('ok');
    conn.heartbeat();
    expect(fake.sent).toEqual(['ping\n_\n\n', 'ping\n_\n\n']);
    conn.close();
  });

  it('falls back to stats once a ping was answered with error (dflockd 1.10 has no ping)', () => {
    const { fake, conn } = setup();
    conn.heartbeat();
    fake.lines.next('error');
    expect(conn.open).toBe(true);
    conn.heartbeat();
    conn.heartbeat();
    expect(fake.sent).toEqual(['ping\n_\n\n', 'stats\n_\n\n', 'stats\n_\n\n']);
    conn.close();
  });

  it('an unanswered heartbeat breaks the connection like any request', () => {
    const { scheduler, conn } = setup(1_000);
    conn.heartbeat();
    advanceTo(scheduler, 1_000);
    expect(conn.open).toBe(false);
    expect(conn.unanswered).toBe(true);
  });

  it('a plain ping request learns the answer too', () => {
    const { fake, conn } = setup();
    conn.send(pingRequest(), () => undefined);
    fake.lines.next('error');
    conn.heartbeat();
    expect(fake.sent[1]).toBe('stats\n_\n\n');
    conn.close();
  });
});

describe('Connection after error_draining', () => {
  it('is no longer open, and its close reaches holders and pending requests as DrainingError with the close as cause', () => {
    const { fake, conn } = setup();
    const holder: ConnectionHolder & { lost: DflockdError[] } = { holderIndex: -1, lost: [], connectionClosed: (e) => holder.lost.push(e) };
    conn.hold(holder);
    const renew = recorder();
    const release = recorder();
    conn.send(renewRequest('d', 'tok', 30), renew.callback);
    conn.send(releaseRequest('d', 'tok'), release.callback);
    fake.lines.next('error_draining');
    expect(renew.get()!.error).toBeInstanceOf(DrainingError);
    expect(conn.open).toBe(false);
    // The server closes the connection after error_draining.
    fake.lines.complete();
    const pending = release.get()!.error!;
    expect(pending).toBeInstanceOf(DrainingError);
    expect(pending.code).toBe('error_draining');
    expect(pending.key).toBe('d');
    expect(holder.lost).toHaveLength(1);
    expect(holder.lost[0]).toBeInstanceOf(DrainingError);
    const cause = holder.lost[0]!.cause as DflockdError;
    expect(cause).toBeInstanceOf(ConnectionError);
    expect(cause.message).toContain('closed by the server');
  });

  it('without error_draining a close stays a ConnectionError', () => {
    const { fake, conn } = setup();
    const holder: ConnectionHolder & { lost: DflockdError[] } = { holderIndex: -1, lost: [], connectionClosed: (e) => holder.lost.push(e) };
    conn.hold(holder);
    const renew = recorder();
    conn.send(renewRequest('d', 'tok', 30), renew.callback);
    fake.lines.next('error');
    fake.lines.complete();
    expect(holder.lost[0]).toBeInstanceOf(ConnectionError);
    expect(holder.lost[0]!.code).toBe('CONNECTION_CLOSED');
  });
});

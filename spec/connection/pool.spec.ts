import { VirtualTimeScheduler, firstValueFrom } from 'rxjs';
import type { Connection, ConnectionHolder } from '../../lib/connection/connection';
import { ConnectionError, DflockdError } from '../../lib/errors';
import { eventually } from '../helpers/eventually';
import { TestServer, startServer } from '../helpers/server';
import { PoolEvent, ServerPool } from '../../lib/connection/pool';
import { pingRequest } from '../../lib/protocol/commands';
import { monotonicScheduler } from '../../lib/scheduler';
import { SilentServer, startSilentServer } from '../helpers/silent-server';

// A server that never answers: requests stay in flight, so the pool's choice of connection is
// seen without racing replies.
describe('ServerPool: when shared connections multiply', () => {
  let server: SilentServer;
  let pool: ServerPool;
  let connected: Array<() => void>;

  beforeEach(async () => {
    server = await startSilentServer();
    connected = [];
    pool = new ServerPool({
      host: '127.0.0.1',
      port: server.port,
      connectTimeoutS: 5,
      scheduler: monotonicScheduler,
      requestTimeoutMs: 60_000,
      idleMs: 60_000,
      maxShared: 16,
      onEvent: (event: PoolEvent) => {
        if (event.type === 'connected') connected.shift()?.();
      },
    });
  });

  afterEach(async () => {
    pool.close();
    await server.close();
  });

  /** Sends `n` requests through sharedNow(), as try-locks do, and returns the connections used. */
  const sendShared = (n: number): Connection[] => {
    const used: Connection[] = [];
    for (let i = 0; i < n; i++) {
      const conn = pool.sharedNow()!;
      conn.send(pingRequest(), () => undefined);
      used.push(conn);
    }
    return used;
  };
  const nextConnected = (): Promise<void> => new Promise((resolve) => connected.push(resolve));

  it('a lone connection carries up to 16 requests in flight; the 17th opens a second, which then carries up to 8', async () => {
    const first = await firstValueFrom(pool.shared());
    expect(sendShared(16).every((conn) => conn === first)).toBe(true);
    expect(first.inFlight).toBe(16);

    // The least busy connection has 16 in flight: this request still goes there, and a second opens.
    const opened = nextConnected();
    expect(sendShared(1)[0]).toBe(first);
    await opened;
    const second = pool.sharedNow()!;
    expect(second).not.toBe(first);
    expect(second.inFlight).toBe(0);

    // With two, each carries 8 before a third is opened.
    expect(sendShared(8).every((conn) => conn === second)).toBe(true);
    const third = nextConnected();
    expect(sendShared(1)[0]).toBe(second);
    await third;
    const fresh = pool.sharedNow()!;
    expect(fresh).not.toBe(first);
    expect(fresh).not.toBe(second);
    expect(fresh.inFlight).toBe(0);
  });

  it('never opens more than maxShared', async () => {
    const small = new ServerPool({ host: '127.0.0.1', port: server.port, connectTimeoutS: 5, scheduler: monotonicScheduler, requestTimeoutMs: 60_000, idleMs: 60_000, maxShared: 1, onEvent: () => undefined });
    try {
      const only = await firstValueFrom(small.shared());
      for (let i = 0; i < 40; i++) {
        const conn = small.sharedNow()!;
        expect(conn).toBe(only);
        conn.send(pingRequest(), () => undefined);
      }
      // Nothing was being opened: a connection opened now would be the pool's second.
      expect(await firstValueFrom(small.shared())).toBe(only);
    } finally {
      small.close();
    }
  });
});

/** Runs every virtual action due at or before `t`, and leaves the clock at `t`. */
function advanceTo(scheduler: VirtualTimeScheduler, t: number): void {
  scheduler.maxFrames = t;
  scheduler.flush();
  scheduler.frame = t;
}

/** A stand-in for a lease living on a connection. */
function holder(): ConnectionHolder & { lost: DflockdError[] } {
  const h: ConnectionHolder & { lost: DflockdError[] } = { holderIndex: -1, lost: [], connectionClosed: (e) => h.lost.push(e) };
  return h;
}

describe('ServerPool against a real server, on virtual time', () => {
  let server: TestServer;
  let scheduler: VirtualTimeScheduler;
  let pool: ServerPool;
  let events: PoolEvent[];
  const IDLE_MS = 4_000;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.stop());

  const makePool = (maxShared: number, port = server.port, requestTimeoutMs = 60_000): ServerPool =>
    new ServerPool({
      host: '127.0.0.1',
      port,
      connectTimeoutS: 5,
      scheduler,
      requestTimeoutMs,
      idleMs: IDLE_MS,
      maxShared,
      onEvent: (event) => events.push(event),
    });

  beforeEach(() => {
    scheduler = new VirtualTimeScheduler();
    events = [];
    pool = makePool(1);
  });
  afterEach(() => pool.close());

  it('concurrent callers share one opening attempt (one connection, one connected event)', async () => {
    const [a, b] = await Promise.all([firstValueFrom(pool.shared()), firstValueFrom(pool.shared())]);
    expect(a).toBe(b);
    expect(events.filter((e) => e.type === 'connected')).toHaveLength(1);
  });

  it('close() ends an attempt still opening: its callers get a ConnectionError', async () => {
    const opening = firstValueFrom(pool.shared());
    pool.close();
    const error = await opening.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toContain('client is closing');
  });

  it('maxSharedConnections is a cap: a lent connection coming back with a lease beyond it is kept alive (heartbeats) but never shared, and closed when its last lease leaves', async () => {
    const shared = await firstValueFrom(pool.shared());
    shared.hold(holder());
    const lent = await firstValueFrom(pool.dedicated());
    expect(lent).not.toBe(shared);
    const lease = holder();
    lent.hold(lease);
    pool.adopt(lent);
    for (let i = 0; i < 20; i++) {
      const conn = pool.sharedNow()!;
      expect(conn).toBe(shared);
      conn.send(pingRequest(), () => undefined);
    }
    expect(pool.dedicatedNow()).toBeUndefined();

    // Idle past idleMs: the kept connection sends a heartbeat (and so does the shared one, which holds a lease too).
    const sentBefore = lent.lastSentAt;
    advanceTo(scheduler, IDLE_MS + IDLE_MS / 4);
    expect(lent.lastSentAt).toBeGreaterThan(sentBefore);
    expect(lent.inFlight).toBe(1);
    await eventually(() => lent.inFlight === 0, 'the heartbeat was answered', { timeoutMs: 2000 });
    expect(lent.open).toBe(true);

    // Its last lease leaves: closed at the next sweep.
    lent.unhold(lease);
    advanceTo(scheduler, 2 * IDLE_MS);
    expect(lent.open).toBe(false);
    expect(shared.open).toBe(true);
  });

  it('adopt(conn, false) keeps a holding connection out of the shared set even with room in it', async () => {
    const wide = makePool(4);
    try {
      const lent = await firstValueFrom(wide.dedicated());
      lent.hold(holder());
      wide.adopt(lent, false);
      expect(wide.sharedNow()).toBeUndefined();
      const shared = await firstValueFrom(wide.shared());
      expect(shared).not.toBe(lent);
      expect(lent.open).toBe(true);
    } finally {
      wide.close();
    }
  });

  it('a lent connection holding nothing that comes back beyond the cap is closed', async () => {
    const shared = await firstValueFrom(pool.shared());
    shared.hold(holder());
    const lent = await firstValueFrom(pool.dedicated());
    pool.adopt(lent);
    expect(lent.open).toBe(false);
    expect(pool.sharedNow()).toBe(shared);
  });

  it('closes a shared connection with no lease once it is idle past idleMs, and heartbeats one holding a lease', async () => {
    const wide = makePool(4);
    try {
      const idle = await firstValueFrom(wide.shared());
      const lent = await firstValueFrom(wide.dedicated());
      expect(lent).toBe(idle); // the idle shared connection is lent …
      const busy = await firstValueFrom(wide.dedicated());
      expect(busy).not.toBe(idle);
      wide.adopt(idle);
      busy.hold(holder());
      wide.adopt(busy);
      advanceTo(scheduler, IDLE_MS - 1);
      expect(idle.open).toBe(true);
      advanceTo(scheduler, IDLE_MS + IDLE_MS / 4);
      expect(idle.open).toBe(false);
      expect(busy.open).toBe(true);
      expect(busy.inFlight).toBe(1);
      await eventually(() => busy.inFlight === 0, 'the heartbeat was answered', { timeoutMs: 2000 });
      expect(wide.sharedNow()).toBe(busy);
    } finally {
      wide.close();
    }
  });
});

describe('ServerPool: a broken connection is never handed out again', () => {
  let silent: SilentServer;
  beforeAll(async () => {
    silent = await startSilentServer();
  });
  afterAll(() => silent.close());

  it('a connection the watchdog declared silent leaves the pool: its leases are told, the next caller gets a new one', async () => {
    const scheduler = new VirtualTimeScheduler();
    const events: PoolEvent[] = [];
    const pool = new ServerPool({ host: '127.0.0.1', port: silent.port, connectTimeoutS: 5, scheduler, requestTimeoutMs: 1_000, idleMs: 60_000, maxShared: 4, onEvent: (e) => events.push(e) });
    try {
      const first = await firstValueFrom(pool.shared());
      const lease = holder();
      first.hold(lease);
      first.send(pingRequest(), () => undefined);
      advanceTo(scheduler, 1_000);
      expect(first.open).toBe(false);
      expect(lease.lost).toHaveLength(1);
      expect(lease.lost[0]!.message).toContain('no reply within requestTimeoutS=1');
      expect(events.map((e) => e.type)).toEqual(['connected', 'disconnected']);
      expect(pool.sharedNow()).toBeUndefined();
      expect(pool.dedicatedNow()).toBeUndefined();
      const next = await firstValueFrom(pool.shared());
      expect(next).not.toBe(first);
      expect(next.open).toBe(true);
    } finally {
      pool.close();
    }
  });
});

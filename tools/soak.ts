/**
 * Soak test: N clients contend for a few locks and one semaphore through a FaultProxy that
 * injects seeded random faults (latency spikes, short black-holes, resets), against an embedded
 * DflockdTestServer with a short lease. Every acquired / renewed / lost / release is recorded
 * and checked for mutual exclusion (tools/history.ts); at the end the server must hold nothing
 * and the clients must have left no socket or timer behind.
 *
 * ```sh
 * npm run soak -- --seconds 300 --seed 1 [--clients 8] [--keys 3]
 * ```
 *
 * Exits 1 on any violation, leftover or leak.
 */
import type { Observable } from 'rxjs';
import { DflockdClient, DistributedLock, type ClientEvent, type LockEvent, type LostReason } from 'dflockd-rx';
import { DflockdTestServer, FaultProxy } from 'dflockd-rx/testing';
import { liveClientTimers, socketsTo, trackClientTimers } from './handles.js';
import { type HistoryEvent, type Violation, check, lossLateness } from './history.js';

/** Settings of one soak run. */
export interface SoakOptions {
  /** How long clients keep starting rounds. */
  readonly seconds: number;
  /** Seeds every random choice (client rounds and the fault schedule). */
  readonly seed: number;
  /** Number of independent clients (each its own DflockdClient and connection pool). */
  readonly clients: number;
  /** Number of lock keys; one semaphore key comes on top. */
  readonly keys: number;
  /** Lease requested by every acquisition, whole seconds. @default 2 */
  readonly leaseS?: number;
  /** The semaphore's limit. @default 2 */
  readonly semaphoreLimit?: number;
  /** Rounds per client at most (the time bound usually ends the run first). @default 1_000_000 */
  readonly maxRounds?: number;
  /** Inject faults. @default true */
  readonly faults?: boolean;
  /** Progress lines (one every ~10 s). @default none */
  readonly log?: (line: string) => void;
}

/** The kinds of fault the injector uses. */
export type FaultKind = 'latency' | 'blackhole' | 'reset';

/** What a run did and found. */
export interface SoakSummary {
  readonly seed: number;
  readonly seconds: number;
  readonly clients: number;
  readonly keys: number;
  readonly elapsedS: number;
  /** Rounds started (one acquisition attempt each). */
  readonly operations: number;
  readonly operationsByKind: Record<RoundKind, number>;
  readonly acquisitions: number;
  readonly renewals: number;
  readonly releases: { readonly confirmed: number; readonly failed: number };
  readonly timeouts: number;
  /** Acquisitions that failed otherwise, by error code. */
  readonly errors: Record<string, number>;
  readonly faults: Record<FaultKind, number>;
  readonly losses: Record<LostReason, number>;
  /** Largest `lost` time minus the holder's local deadline (ms; ≤ 0 means on time). */
  readonly maxLossLatenessMs: number;
  readonly historyEvents: number;
  readonly violations: readonly Violation[];
  /** Server state that should be gone at the end (held leases, waiters, connections). */
  readonly leftovers: readonly string[];
  /** Sockets or timers the clients left behind after close(). */
  readonly leaks: readonly string[];
}

type RoundKind = 'lock' | 'semaphore' | 'withLock' | 'facade';

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The server's read timeout (s): long enough that no fault here makes it drop a live connection. */
const READ_TIMEOUT_S = 5;
/** Time allowed, after the run, for the server to forget everything (bounded polling). */
const DRAIN_MS = 8_000;

/** Runs the soak and returns its summary; never throws for a finding (see `violations`, `leftovers`, `leaks`). */
export async function runSoak(options: SoakOptions): Promise<SoakSummary> {
  const leaseS = options.leaseS ?? 2;
  const semLimit = options.semaphoreLimit ?? 2;
  const maxRounds = options.maxRounds ?? 1_000_000;
  const log = options.log ?? (() => undefined);
  const lockKeys = Array.from({ length: options.keys }, (_, i) => `soak-lock-${i}`);
  const semKey = 'soak-sem';
  trackClientTimers();

  const server = new DflockdTestServer({ port: 0, host: '127.0.0.1', defaultLeaseTtl: leaseS, readTimeout: READ_TIMEOUT_S, leaseSweepInterval: 0.1, gcInterval: 1, gcMaxIdle: 2 });
  const serverPort = await server.start();
  const proxy = new FaultProxy({ target: { host: '127.0.0.1', port: serverPort } });
  const proxyPort = await proxy.start();

  const history: HistoryEvent[] = [];
  const counts = {
    operationsByKind: { lock: 0, semaphore: 0, withLock: 0, facade: 0 } as Record<RoundKind, number>,
    acquisitions: 0,
    renewals: 0,
    released: 0,
    releaseFailed: 0,
    timeouts: 0,
    errors: {} as Record<string, number>,
    faults: { latency: 0, blackhole: 0, reset: 0 } as Record<FaultKind, number>,
    losses: { expired: 0, disconnected: 0, deadline: 0, 'server-shutdown': 0 } as Record<LostReason, number>,
  };
  const started = performance.now();
  const endAt = started + options.seconds * 1000;
  // Everything waiting on a timer listens to this: at the end, holds and gaps are cut short.
  const stop = new AbortController();
  const sleep = (msToWait: number): Promise<void> =>
    new Promise((resolve) => {
      if (stop.signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        stop.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, Math.min(msToWait, endAt - performance.now())));
      stop.signal.addEventListener('abort', done);
    });
  const endTimer = setTimeout(() => stop.abort(), options.seconds * 1000);

  const clients: DflockdClient[] = [];
  const record = (client: string, event: ClientEvent): void => {
    const t = performance.now();
    switch (event.type) {
      case 'acquired':
        counts.acquisitions++;
        history.push({ client, key: event.key, kind: 'acquired', token: event.token, t, expiresAt: event.expiresAt });
        return;
      case 'renewed':
        counts.renewals++;
        history.push({ client, key: event.key, kind: 'renewed', token: event.token, t, expiresAt: event.expiresAt });
        return;
      case 'lost':
        counts.losses[event.reason]++;
        history.push({ client, key: event.key, kind: 'lost', token: event.token, t });
        return;
      case 'released':
        counts.released++;
        return;
      case 'release-failed':
        counts.releaseFailed++;
        return;
      default:
        return;
    }
  };
  const failed = (error: unknown): void => {
    const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : String(error);
    if (code === 'timeout') counts.timeouts++;
    else counts.errors[code] = (counts.errors[code] ?? 0) + 1;
  };

  /** One client's rounds: pick a key and a way to acquire, hold a while, let go. */
  const clientLoop = async (index: number): Promise<void> => {
    const name = `c${index}`;
    const rng = mulberry32(options.seed * 1_000_003 + index + 1);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
    const client = new DflockdClient({ servers: [['127.0.0.1', proxyPort]], serverIdleTimeoutS: READ_TIMEOUT_S, connectTimeoutS: 2 });
    clients.push(client);
    client.events$.subscribe((event) => record(name, event));
    const released = (key: string, token: string): void => {
      history.push({ client: name, key, kind: 'released', token, t: performance.now() });
    };
    for (let round = 0; round < maxRounds && !stop.signal.aborted; round++) {
      const kind = pick<RoundKind>(['lock', 'lock', 'semaphore', 'withLock', 'facade']);
      const key = kind === 'semaphore' ? semKey : pick(lockKeys);
      const acquireTimeoutS = pick([0, 1, 1, 2, 3]);
      // Mostly short holds; some outlive the lease several times over, so renewals run under faults.
      const holdMs = rng() < 0.8 ? rng() * 300 : rng() * leaseS * 2500;
      const lockOptions = { acquireTimeoutS, leaseTtlS: leaseS };
      counts.operationsByKind[kind]++;
      try {
        if (kind === 'lock' || kind === 'semaphore') {
          const source = kind === 'lock' ? client.lock(key, lockOptions) : client.semaphore(key, semLimit, lockOptions);
          await holdStream(source, holdMs, released);
        } else if (kind === 'withLock') {
          await client.withLock(
            key,
            async (signal, lease) => {
              await sleepUnless(holdMs, signal);
              released(key, lease.token);
            },
            lockOptions,
          );
        } else {
          const lock = new DistributedLock(key, { client, ...lockOptions });
          if (await lock.acquire()) {
            const token = lock.token!;
            await sleep(holdMs);
            released(key, token);
            await lock.release();
          } else counts.timeouts++;
        }
      } catch (error) {
        if (!(typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'LEASE_LOST')) failed(error);
      }
      await sleep(rng() * 50);
    }
  };

  /** Subscribes, waits for the grant, holds for `holdMs` (or until lost, or the end), unsubscribes. */
  const holdStream = (source: Observable<LockEvent>, holdMs: number, released: (key: string, token: string) => void): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let acquired: { key: string; token: string } | undefined;
      const finish = (): void => {
        clearTimeout(timer);
        stop.signal.removeEventListener('abort', letGo);
        if (acquired) released(acquired.key, acquired.token);
        subscription.unsubscribe();
        resolve();
      };
      const letGo = (): void => finish();
      const subscription = source.subscribe({
        next: (event) => {
          if (event.type === 'acquired') {
            acquired = { key: event.key, token: event.token };
            timer = setTimeout(finish, holdMs);
          }
        },
        error: (error: unknown) => {
          clearTimeout(timer);
          stop.signal.removeEventListener('abort', letGo);
          reject(error);
        },
        complete: () => {
          // Completes only after `lost`: the claim is over, nothing to release.
          acquired = undefined;
          finish();
        },
      });
      stop.signal.addEventListener('abort', letGo);
    });

  const sleepUnless = (msToWait: number, signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      if (signal.aborted || stop.signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        stop.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, msToWait);
      signal.addEventListener('abort', done);
      stop.signal.addEventListener('abort', done);
    });

  /**
   * One fault at a time, on one connection or (rarely) all, for a bounded time. Black-holes stay
   * shorter than the lease and the server's read timeout: longer partitions are the subject of
   * dedicated specs (spec/reliability), not of this randomized run.
   */
  const faultLoop = async (): Promise<void> => {
    if (options.faults === false) return;
    const rng = mulberry32(options.seed ^ 0x5eed_f00d);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
    const maxFaults = Math.ceil(options.seconds * 3);
    const maxFaultMs = Math.min(leaseS * 1000 * 0.75, 1500);
    for (let i = 0; i < maxFaults && !stop.signal.aborted; i++) {
      await sleep(150 + rng() * 600);
      const live = proxy.connections;
      if (stop.signal.aborted || live.length === 0) continue;
      const targets = rng() < 0.15 ? live : [pick(live)];
      const kind = pick<FaultKind>(['latency', 'latency', 'blackhole', 'blackhole', 'reset']);
      const direction = pick(['both', 'toServer', 'toClient'] as const);
      counts.faults[kind]++;
      if (kind === 'reset') {
        for (const c of targets) c.reset();
        continue;
      }
      if (kind === 'latency') {
        const ms = 20 + rng() * 280;
        for (const c of targets) c.setLatency(ms, { direction });
      } else {
        for (const c of targets) c.blackhole({ direction });
      }
      await sleep(100 + rng() * (maxFaultMs - 100));
      for (const c of targets) c.heal();
    }
  };

  let lastReport = started;
  const progress = setInterval(() => {
    const now = performance.now();
    if (now - lastReport < 10_000) return;
    lastReport = now;
    const total = Object.values(counts.operationsByKind).reduce((a, b) => a + b, 0);
    log(`[${((now - started) / 1000).toFixed(0)} s] operations ${total}, acquisitions ${counts.acquisitions}, faults ${JSON.stringify(counts.faults)}, losses ${JSON.stringify(counts.losses)}`);
  }, 1_000);
  progress.unref();

  await Promise.all([faultLoop(), ...Array.from({ length: options.clients }, (_, i) => clientLoop(i))]);
  clearTimeout(endTimer);
  clearInterval(progress);
  stop.abort();
  proxy.heal();
  await Promise.all(clients.map((c) => c.close()));

  // The server must forget every lease: released ones at once, lost ones once their
  // connection's close arrives or their lease runs out; and every connection must go.
  const leftovers = await drained(server, DRAIN_MS);

  const leaks: string[] = [];
  for (let i = 0; i < 150 && socketsTo(proxyPort).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  for (const s of socketsTo(proxyPort)) leaks.push(`socket ${s.localPort} -> ${s.remotePort} still open after close()`);
  for (const where of liveClientTimers()) leaks.push(`timer still pending after close(), created ${where}`);
  await proxy.stop();
  await server.stop();

  const violations = check(history, { limits: { [semKey]: semLimit } });
  const lateness = lossLateness(history);
  return {
    seed: options.seed,
    seconds: options.seconds,
    clients: options.clients,
    keys: options.keys,
    elapsedS: (performance.now() - started) / 1000,
    operations: Object.values(counts.operationsByKind).reduce((a, b) => a + b, 0),
    operationsByKind: counts.operationsByKind,
    acquisitions: counts.acquisitions,
    renewals: counts.renewals,
    releases: { confirmed: counts.released, failed: counts.releaseFailed },
    timeouts: counts.timeouts,
    errors: counts.errors,
    faults: counts.faults,
    losses: counts.losses,
    maxLossLatenessMs: lateness.length === 0 ? 0 : Math.max(...lateness),
    historyEvents: history.length,
    violations,
    leftovers,
    leaks,
  };
}

/** Polls the in-process server until it holds nothing (bounded); returns what is left. */
async function drained(server: DflockdTestServer, withinMs: number): Promise<string[]> {
  const deadline = performance.now() + withinMs;
  let left: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    const stats = server.stats();
    left = [
      ...stats.locks.filter((l) => l.owner_conn_id !== 0).map((l) => `lock "${l.key}" still held by connection ${l.owner_conn_id}`),
      ...stats.locks.filter((l) => l.waiters > 0).map((l) => `lock "${l.key}" still has ${l.waiters} waiter(s)`),
      ...stats.semaphores.filter((s) => s.holders > 0 || s.waiters > 0).map((s) => `semaphore "${s.key}": ${s.holders} holder(s), ${s.waiters} waiter(s)`),
      ...(stats.connections > 0 ? [`${stats.connections} connection(s) still open on the server`] : []),
    ];
    if (left.length === 0 || performance.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return left;
}

/** The summary as printed by the CLI. */
export function formatSummary(s: SoakSummary): string {
  const kv = (o: Record<string, number>): string =>
    Object.entries(o)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const lines = [
    `soak: seed ${s.seed}, ${s.clients} clients, ${s.keys} lock keys + 1 semaphore, ${s.seconds} s (ran ${s.elapsedS.toFixed(1)} s)`,
    `operations:   ${s.operations} (${kv(s.operationsByKind)})`,
    `acquisitions: ${s.acquisitions}, renewals ${s.renewals}, releases ${s.releases.confirmed} confirmed / ${s.releases.failed} failed`,
    `not acquired: timeouts ${s.timeouts}; errors: ${kv(s.errors)}`,
    `faults:       ${kv(s.faults)} (total ${Object.values(s.faults).reduce((a, b) => a + b, 0)})`,
    `losses:       ${kv(s.losses)}; latest lost vs local deadline: ${s.maxLossLatenessMs.toFixed(1)} ms`,
    `history:      ${s.historyEvents} events`,
    `violations:   ${s.violations.length}`,
    ...s.violations.slice(0, 20).map((v) => `  - ${v.message}`),
    `leftovers:    ${s.leftovers.length === 0 ? 'none' : s.leftovers.join('; ')}`,
    `leaks:        ${s.leaks.length === 0 ? 'none' : s.leaks.join('; ')}`,
  ];
  return lines.join('\n');
}

/** Parses `--seconds N --seed N --clients N --keys N` (also `--flag=N`). */
export function parseArgs(argv: readonly string[]): SoakOptions {
  const values: Record<string, number> = { seconds: 60, seed: 1, clients: 8, keys: 3 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--(seconds|seed|clients|keys)(?:=(.*))?$/.exec(arg);
    if (m === null) throw new Error(`soak: unknown argument ${JSON.stringify(arg)}; use --seconds N --seed N --clients N --keys N`);
    const raw = m[2] ?? argv[++i];
    const n = Number(raw);
    if (raw === undefined || !Number.isInteger(n) || n < (m[1] === 'seed' ? 0 : 1)) throw new Error(`soak: --${m[1]} needs a whole number${m[1] === 'seed' ? '' : ' ≥ 1'}, got ${String(raw)}`);
    values[m[1]!] = n;
  }
  return { seconds: values['seconds']!, seed: values['seed']!, clients: values['clients']!, keys: values['keys']! };
}

async function main(): Promise<void> {
  let options: SoakOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 2;
    return;
  }
  const summary = await runSoak({ ...options, log: (line) => console.log(line) });
  console.log(formatSummary(summary));
  const ok = summary.violations.length === 0 && summary.leftovers.length === 0 && summary.leaks.length === 0;
  process.exitCode = ok ? 0 : 1;
}

if (require.main === module) void main();

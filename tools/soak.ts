/**
 * Soak test: N clients contend for a few locks and one semaphore through a FaultProxy that
 * injects seeded random faults (latency spikes, short and long black-holes, resets), against an
 * embedded DflockdTestServer. Short and long leases share each client's pipelined connections.
 * Every acquired / renewed / lost / release is recorded and checked for mutual exclusion
 * (tools/history.ts) and for neighbour losses (a lease lost as `disconnected` although nothing
 * was wrong with its connection: no watchdog verdict, no close by the server, no socket error —
 * which is what one lease's trouble destroying a shared connection would look like); at the end
 * the server must hold nothing and the clients must have left no socket or timer behind.
 *
 * ```sh
 * npm run soak -- --seconds 300 --seed 1 [--clients 8] [--keys 3]
 * ```
 *
 * Exits 1 on any violation, neighbour loss, leftover or leak.
 */
import type { Observable } from 'rxjs';
import { DflockdClient, DistributedLock, type ClientEvent, type LockEvent, type LostReason } from 'dflockd-rx';
import { DflockdTestServer, FaultProxy } from 'dflockd-rx/testing';
import { liveClientTimers, socketsTo, trackClientTimers } from './handles.js';
import { injectFaults } from './soak-faults.js';
import { type HistoryEvent, check, lossLateness } from './history.js';
import { mulberry32 } from './prng.js';
import { type FaultKind, type RoundKind, type SoakOptions, type SoakSummary, formatSummary, parseArgs } from './soak-report.js';

export { formatSummary, mulberry32, parseArgs };
export type { FaultKind, SoakOptions, SoakSummary };

/** The server's read timeout (s): long enough that no fault here makes it drop a live connection. */
const READ_TIMEOUT_S = 5;
/** Each client's reply watchdog (s): the long black-holes outlast it, the short ones do not. */
const REQUEST_TIMEOUT_S = 1.5;
/** A long lease next to the short one (s): its claim is bounded by the read timeout, its renewals share the connection. */
const LONG_LEASE_S = 30;
/** What a connection's own failure says (see Connection): any other `disconnected` loss is a neighbour loss. */
const CONNECTION_EVIDENCE = /requestTimeoutS|closed by the server|failed:|not a dflockd reply|with no request pending|the client (is|was) clos/;
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
    faults: { latency: 0, blackhole: 0, 'long-blackhole': 0, reset: 0 } as Record<FaultKind, number>,
    // LostEvent.reason is open to reasons of later versions: count those too.
    losses: { expired: 0, disconnected: 0, deadline: 0, 'server-shutdown': 0 } as Record<LostReason, number> & Record<string, number>,
    leases: { short: 0, long: 0 },
  };
  const neighbourLosses: string[] = [];
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
        counts.losses[event.reason] = (counts.losses[event.reason] ?? 0) + 1;
        if (event.reason === 'disconnected' && !CONNECTION_EVIDENCE.test(event.error?.message ?? '')) {
          neighbourLosses.push(`${client} lost "${event.key}" as disconnected with no fault of its connection: ${event.error?.message ?? 'no error'}`);
        }
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
    const client = new DflockdClient({ servers: [['127.0.0.1', proxyPort]], serverIdleTimeoutS: READ_TIMEOUT_S, connectTimeoutS: 2, requestTimeoutS: REQUEST_TIMEOUT_S });
    clients.push(client);
    client.events$.subscribe((event) => record(name, event));
    const released = (key: string, token: string): void => {
      history.push({ client: name, key, kind: 'released', token, t: performance.now() });
    };
    for (let round = 0; round < maxRounds && !stop.signal.aborted; round++) {
      const kind = pick<RoundKind>(['lock', 'lock', 'semaphore', 'withLock', 'facade']);
      const key = kind === 'semaphore' ? semKey : pick(lockKeys);
      const acquireTimeoutS = pick([0, 1, 1, 2, 3]);
      // A third of the leases are long: they share connections with the short ones, whose late
      // renewals must never cost them their lease.
      const long = rng() < 0.33;
      counts.leases[long ? 'long' : 'short']++;
      // Mostly short holds; some outlive the (short) lease several times over, so renewals run under faults.
      const holdMs = rng() < 0.8 ? rng() * 300 : rng() * leaseS * 2500;
      const lockOptions = { acquireTimeoutS, leaseTtlS: long ? LONG_LEASE_S : leaseS };
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

  let lastReport = started;
  const progress = setInterval(() => {
    const now = performance.now();
    if (now - lastReport < 10_000) return;
    lastReport = now;
    const total = Object.values(counts.operationsByKind).reduce((a, b) => a + b, 0);
    log(`[${((now - started) / 1000).toFixed(0)} s] operations ${total}, acquisitions ${counts.acquisitions}, faults ${JSON.stringify(counts.faults)}, losses ${JSON.stringify(counts.losses)}`);
  }, 1_000);
  progress.unref();

  const schedule = { seed: options.seed, seconds: options.seconds, leaseS, longBlackholeMs: REQUEST_TIMEOUT_S * 1000 * 2 };
  await Promise.all([options.faults === false ? Promise.resolve() : injectFaults(proxy, schedule, sleep, stop.signal, counts.faults), ...Array.from({ length: options.clients }, (_, i) => clientLoop(i))]);
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
    leases: counts.leases,
    neighbourLosses,
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
  const ok = summary.violations.length === 0 && summary.neighbourLosses.length === 0 && summary.leftovers.length === 0 && summary.leaks.length === 0;
  process.exitCode = ok ? 0 : 1;
}

if (require.main === module) void main();

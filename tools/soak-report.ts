/**
 * The soak tool's settings, its summary, how the summary is printed and how the command line
 * is read. See tools/soak.ts.
 */
import type { LostReason } from 'dflockd-rx';
import type { Violation } from './history.js';

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
export type FaultKind = 'latency' | 'blackhole' | 'long-blackhole' | 'reset';

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
  /** Rounds with the short lease and with the long one (both share each client's connections). */
  readonly leases: { readonly short: number; readonly long: number };
  /** Leases lost as `disconnected` although their connection showed no failure of its own (must be none). */
  readonly neighbourLosses: readonly string[];
  /** Largest `lost` time minus the holder's local deadline (ms; ≤ 0 means on time). */
  readonly maxLossLatenessMs: number;
  readonly historyEvents: number;
  readonly violations: readonly Violation[];
  /** Server state that should be gone at the end (held leases, waiters, connections). */
  readonly leftovers: readonly string[];
  /** Sockets or timers the clients left behind after close(). */
  readonly leaks: readonly string[];
}

/** The ways a round acquires: client.lock(), client.semaphore(), client.withLock(), the facade. */
export type RoundKind = 'lock' | 'semaphore' | 'withLock' | 'facade';

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
    `leases:       short ${s.leases.short}, long ${s.leases.long}`,
    `losses:       ${kv(s.losses)}; latest lost vs local deadline: ${s.maxLossLatenessMs.toFixed(1)} ms`,
    `neighbours:   ${s.neighbourLosses.length === 0 ? 'no lease lost for another lease\'s trouble' : s.neighbourLosses.slice(0, 20).join('; ')}`,
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


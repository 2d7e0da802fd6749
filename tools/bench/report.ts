/**
 * The bench report: its JSON shape (`--json`), the targets of issue 6 checked against it, and
 * the summary table printed for people.
 *
 * @module
 */

import type { HandoffTrial, ThroughputTrial } from './trial.js';

/** Medians over the trials of one driver in (a)/(d). */
export interface ThroughputFigures {
  readonly opsPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Failed cycles, summed over the trials. */
  readonly errors: number;
}

/** (a) or (d) at one worker count. */
export interface ThroughputResult {
  readonly scenario: 'a' | 'd';
  readonly workers: number;
  readonly rounds: number;
  readonly client: ThroughputFigures;
  readonly baseline: ThroughputFigures;
  /** client ÷ baseline. */
  readonly ratios: { readonly throughput: number; readonly p50: number; readonly p99: number };
  /** Connections the client opened for this scenario (it pipelines workers over shared ones). */
  readonly clientConnections: number;
  readonly trials: { readonly client: readonly ThroughputTrial[]; readonly baseline: readonly ThroughputTrial[] };
}

/** (e) at one worker count: the job loops of users on their own keys, against the raw loop. */
export interface JobLoopResult {
  readonly workers: number;
  readonly rounds: number;
  /** `await lock.acquire(); await lock.release()` in a loop. */
  readonly facade: ThroughputFigures;
  /** subscribe → `acquired` → unsubscribe → subscribe again at once. */
  readonly observable: ThroughputFigures;
  /** One socket per worker: `l`, then `r`, each reply awaited. */
  readonly baseline: ThroughputFigures;
  readonly ratios: { readonly facade: number; readonly observable: number };
  /** `queued` events seen (no other client uses these keys: each one would be self-inflicted). */
  readonly queued: { readonly facade: number; readonly observable: number };
}

/** Medians over the trials of one driver in (b). */
export interface HandoffFigures {
  readonly acquisitionsPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Hand-offs measured in the median trial (acquisitions by a worker that was already waiting). */
  readonly handoffs: number;
  readonly errors: number;
}

/** (b). */
export interface HandoffResult {
  readonly workers: number;
  readonly rounds: number;
  readonly client: HandoffFigures;
  readonly baseline: HandoffFigures;
  /** The raw loop sending `e`+`w` (the client's protocol for a contended acquisition) instead of `l`. */
  readonly enqueueWait: HandoffFigures;
  readonly ratios: {
    /** client ÷ baseline (the target). */
    readonly p50: number;
    readonly p99: number;
    readonly throughput: number;
    /** raw `e`+`w` ÷ baseline: what the protocol alone costs. */
    readonly enqueueWaitP50: number;
    /** client ÷ raw `e`+`w`: what the client's code costs. */
    readonly p50VsEnqueueWait: number;
  };
  readonly trials: { readonly client: readonly HandoffTrial[]; readonly baseline: readonly HandoffTrial[]; readonly enqueueWait: readonly HandoffTrial[] };
}

/** How heap figures were taken. */
export type GcAccess = 'exposed' | 'enabled-at-runtime' | 'unavailable';

/** (c) at one lease count. */
export interface ScaleResult {
  readonly leases: number;
  readonly leaseTtlS: number;
  readonly holdS: number;
  /** Time to acquire all N leases (subscribed all at once). */
  readonly acquireMs: number;
  /** JS heap (after full GC) with N leases held, minus before, ÷ N. */
  readonly heapBytesPerLease: number;
  /** RSS with N leases held, minus before, ÷ N (coarse: RSS rarely shrinks). */
  readonly rssBytesPerLease: number;
  /** Heap change over the hold window (after full GC), all leases together: growth means a leak per renewal. */
  readonly heapGrowthDuringHoldBytes: number;
  /** Client process CPU (user + system, all threads) during the hold window, % of one core. */
  readonly cpuPercent: number;
  /** That CPU time ÷ renewals sent in the window. */
  readonly cpuPerRenewalUs: number;
  /**
   * Steady-state estimate: cpuPerRenewalUs × N ÷ renewIntervalMs. Corrects for a window that
   * holds more or fewer renewals than one interval's worth; the CPU target is checked on it.
   */
  readonly steadyCpuPercent: number;
  /** Event-loop utilisation during the hold window (0…1). */
  readonly eventLoopUtilization: number;
  readonly renewals: number;
  /** Mean time between two renewals (or acquire → renewal) of one lease, observed. */
  readonly renewIntervalMs: number;
  /** The fullest 100 ms bucket of renewal *sends* during the window. */
  readonly renewPeakPer100ms: number;
  /** Renewals sent ÷ buckets in the window: what a perfectly spread client would send per bucket. */
  readonly renewMeanPer100ms: number;
  /** Peak ÷ mean: 1 is perfectly spread; N leases renewed in one bucket gives (window ÷ 100 ms). */
  readonly renewPeakToMean: number;
  /** Renewal sent → `renewed` (the server's queue under a burst shows here). */
  readonly renewLatencyP50Ms: number;
  readonly renewLatencyP99Ms: number;
  readonly lost: number;
  readonly errors: number;
  readonly gc: GcAccess;
  /** True when the server ran in this process, so heap and CPU include it. */
  readonly includesServer: boolean;
}

/** The embedded test server's raw throughput against the external server's (same baseline loop). */
export interface ServerComparison {
  readonly workers: number;
  readonly embeddedOpsPerS: number;
  readonly externalOpsPerS: number;
  /** embedded ÷ external. */
  readonly ratio: number;
}

/** One target of issue 6 checked. */
export interface TargetCheck {
  readonly id: string;
  readonly description: string;
  readonly value: number;
  readonly limit: number;
  readonly op: '>=' | '<=';
  /** null when not applicable (e.g. the CPU target needs 30 s leases). */
  readonly met: boolean | null;
  readonly note?: string;
}

/** (f): `DflockdHttpClient` against a raw `fetch` loop, one worker, on the test server's HTTP API. */
export interface HttpResult {
  readonly rounds: number;
  readonly client: ThroughputFigures;
  readonly baseline: ThroughputFigures;
  readonly ratios: { readonly throughput: number; readonly p50: number; readonly p99: number };
}

/** Everything one run measured. */
export interface BenchReport {
  readonly version: 1;
  readonly startedAt: string;
  readonly durationS: number;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly node: string; readonly platform: string; readonly totalMemMiB: number };
  readonly server: { readonly kind: string; readonly address: string; readonly tlsKind?: string; readonly tlsAddress?: string };
  readonly settings: {
    readonly quick: boolean;
    readonly trials: number;
    readonly rounds: number;
    readonly workers: readonly number[];
    readonly handoffWorkers: number;
    readonly handoffRounds: number;
    readonly leases: readonly number[];
    readonly seconds: number;
    readonly leaseTtlS: number;
  };
  readonly scenarios: {
    readonly a?: readonly ThroughputResult[];
    readonly b?: HandoffResult;
    readonly c?: readonly ScaleResult[];
    readonly d?: readonly ThroughputResult[];
    readonly e?: readonly JobLoopResult[];
    readonly f?: HttpResult;
  };
  readonly serverComparison?: ServerComparison;
  readonly targets: readonly TargetCheck[];
  /** Operations (client or baseline) that failed during the run; non-zero makes the command fail. */
  readonly failedOperations: number;
  /** Things the reader should know (skipped scenarios, in-process server, …). */
  readonly notes: readonly string[];
}

const KIB = 1024;

/** Checks the targets of issue 6 against a report's figures. */
export function checkTargets(scenarios: BenchReport['scenarios']): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const check = (id: string, description: string, value: number, op: '>=' | '<=', limit: number, applicable = true, note?: string): void => {
    const met = !applicable || !Number.isFinite(value) ? null : op === '>=' ? value >= limit : value <= limit;
    checks.push({ id, description, value, limit, op, met, ...(note !== undefined ? { note } : {}) });
  };
  for (const r of scenarios.a ?? []) {
    check(`a.W${r.workers}.throughput`, `(a) W=${r.workers} throughput ÷ baseline`, r.ratios.throughput, '>=', 0.9);
    check(`a.W${r.workers}.p99`, `(a) W=${r.workers} p99 latency ÷ baseline`, r.ratios.p99, '<=', 1.5);
  }
  if (scenarios.b) check('b.p50', `(b) W=${scenarios.b.workers} hand-off p50 ÷ baseline`, scenarios.b.ratios.p50, '<=', 1.2);
  for (const r of scenarios.c ?? []) {
    check(`c.N${r.leases}.heap`, `(c) N=${r.leases} JS heap per lease (KiB)`, r.heapBytesPerLease / KIB, '<=', 4, r.gc !== 'unavailable', r.gc === 'unavailable' ? 'no gc(): heap figures unreliable' : undefined);
    const thirty = r.leaseTtlS === 30;
    check(`c.N${r.leases}.cpu`, `(c) N=${r.leases} steady renew CPU, % of a core`, r.steadyCpuPercent, '<=', 5, thirty && !r.includesServer, !thirty ? 'target is for 30 s leases' : r.includesServer ? 'server in this process' : undefined);
  }
  for (const r of scenarios.d ?? []) check(`d.W${r.workers}.throughput`, `(d) W=${r.workers} TLS throughput ÷ baseline`, r.ratios.throughput, '>=', 0.8);
  for (const r of scenarios.e ?? []) {
    check(`e.W${r.workers}.facade`, `(e) W=${r.workers} facade job loop ÷ raw loop`, r.ratios.facade, '>=', 0.9);
    check(`e.W${r.workers}.observable`, `(e) W=${r.workers} Observable job loop ÷ raw loop`, r.ratios.observable, '>=', 0.9);
    check(`e.W${r.workers}.queued`, `(e) W=${r.workers} self-inflicted queued events`, r.queued.facade + r.queued.observable, '<=', 0);
  }
  if (scenarios.f) check('f.throughput', '(f) HTTP client throughput ÷ raw fetch loop', scenarios.f.ratios.throughput, '>=', 0.9);
  return checks;
}

// ── Formatting ──────────────────────────────────────────────────────────────────────

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const ms = (n: number): string => (Number.isFinite(n) ? `${n < 1 ? n.toFixed(3) : n < 10 ? n.toFixed(2) : n.toFixed(1)} ms` : 'n/a');
const times = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}×` : 'n/a');
const kib = (bytes: number): string => (Number.isFinite(bytes) ? `${(bytes / KIB).toFixed(2)} KiB` : 'n/a');

function verdict(check: TargetCheck | undefined): string {
  if (check === undefined) return '';
  const limit = `${check.op === '>=' ? '≥' : '≤'} ${check.limit}`;
  if (check.met === null) return `${limit} n/a${check.note ? ` (${check.note})` : ''}`;
  return `${limit} ${check.met ? 'met' : 'MISSED'}`;
}

function table(rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number>): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) => r.map((cell, c) => (rightAligned.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd())
    .join('\n');
}

/** The summary table printed at the end of a run. */
export function formatReport(report: BenchReport): string {
  const out: string[] = [];
  const m = report.machine;
  out.push(`npm run bench — ${m.cpus} CPU × ${m.cpuModel}, ${m.totalMemMiB} MiB, Node ${m.node} (${m.platform})`);
  out.push(`server: ${report.server.kind} ${report.server.address}${report.server.tlsAddress ? `; TLS: ${report.server.tlsKind} ${report.server.tlsAddress}` : ''}`);
  const s = report.settings;
  out.push(`${s.trials} interleaved trials per driver, medians reported; ratio = client ÷ raw-socket baseline${s.quick ? '; QUICK smoke run: figures are not meaningful' : ''}`);
  out.push('');
  const byId = new Map(report.targets.map((t) => [t.id, t]));
  const rows: string[][] = [['scenario', 'figure', 'client', 'baseline', 'ratio', 'target']];
  const throughputRows = (results: readonly ThroughputResult[] | undefined): void => {
    for (const r of results ?? []) {
      const name = `(${r.scenario}) ${r.scenario === 'd' ? 'TLS ' : ''}W=${r.workers}×${r.rounds}`;
      rows.push([name, 'throughput', `${int(r.client.opsPerS)}/s`, `${int(r.baseline.opsPerS)}/s`, times(r.ratios.throughput), verdict(byId.get(`${r.scenario}.W${r.workers}.throughput`))]);
      rows.push(['', 'p50 cycle', ms(r.client.p50Ms), ms(r.baseline.p50Ms), times(r.ratios.p50), '']);
      rows.push(['', 'p99 cycle', ms(r.client.p99Ms), ms(r.baseline.p99Ms), times(r.ratios.p99), verdict(byId.get(`${r.scenario}.W${r.workers}.p99`))]);
      if (r.client.errors + r.baseline.errors > 0) rows.push(['', 'errors', int(r.client.errors), int(r.baseline.errors), '', '']);
      rows.push(['', 'client connections', int(r.clientConnections), int(r.workers), '', '']);
    }
  };
  throughputRows(report.scenarios.a);
  const b = report.scenarios.b;
  if (b) {
    rows.push([`(b) hand-off W=${b.workers}×${b.rounds}`, 'p50 hand-off', ms(b.client.p50Ms), ms(b.baseline.p50Ms), times(b.ratios.p50), verdict(byId.get('b.p50'))]);
    rows.push(['', 'p99 hand-off', ms(b.client.p99Ms), ms(b.baseline.p99Ms), times(b.ratios.p99), '']);
    rows.push(['', 'acquisitions', `${int(b.client.acquisitionsPerS)}/s`, `${int(b.baseline.acquisitionsPerS)}/s`, times(b.ratios.throughput), '']);
    rows.push(['', 'raw e+w p50 (protocol)', ms(b.enqueueWait.p50Ms), ms(b.baseline.p50Ms), times(b.ratios.enqueueWaitP50), '']);
    rows.push(['', 'client ÷ raw e+w p50', ms(b.client.p50Ms), ms(b.enqueueWait.p50Ms), times(b.ratios.p50VsEnqueueWait), '']);
    if (b.client.errors + b.baseline.errors + b.enqueueWait.errors > 0) rows.push(['', 'errors', int(b.client.errors), `${int(b.baseline.errors)} (e+w ${int(b.enqueueWait.errors)})`, '', '']);
  }
  throughputRows(report.scenarios.d);
  for (const r of report.scenarios.e ?? []) {
    rows.push([`(e) job loop W=${r.workers}×${r.rounds}`, 'facade throughput', `${int(r.facade.opsPerS)}/s`, `${int(r.baseline.opsPerS)}/s`, times(r.ratios.facade), verdict(byId.get(`e.W${r.workers}.facade`))]);
    rows.push(['', 'Observable throughput', `${int(r.observable.opsPerS)}/s`, `${int(r.baseline.opsPerS)}/s`, times(r.ratios.observable), verdict(byId.get(`e.W${r.workers}.observable`))]);
    rows.push(['', 'queued (facade / Obs.)', `${int(r.queued.facade)} / ${int(r.queued.observable)}`, '', '', verdict(byId.get(`e.W${r.workers}.queued`))]);
    if (r.facade.errors + r.observable.errors + r.baseline.errors > 0) rows.push(['', 'errors', `${int(r.facade.errors)} / ${int(r.observable.errors)}`, int(r.baseline.errors), '', '']);
  }
  const f = report.scenarios.f;
  if (f) {
    rows.push([`(f) HTTP W=1×${f.rounds}`, 'throughput', `${int(f.client.opsPerS)}/s`, `${int(f.baseline.opsPerS)}/s`, times(f.ratios.throughput), verdict(byId.get('f.throughput'))]);
    rows.push(['', 'p50 cycle', ms(f.client.p50Ms), ms(f.baseline.p50Ms), times(f.ratios.p50), '']);
    rows.push(['', 'p99 cycle', ms(f.client.p99Ms), ms(f.baseline.p99Ms), times(f.ratios.p99), '']);
    if (f.client.errors + f.baseline.errors > 0) rows.push(['', 'errors', int(f.client.errors), int(f.baseline.errors), '', '']);
  }
  if (rows.length > 1) out.push(table(rows, new Set([2, 3, 4])));

  const scale = report.scenarios.c ?? [];
  if (scale.length > 0) {
    out.push('');
    const c: string[][] = [['(c) scale', 'heap/lease', 'RSS/lease', 'CPU', 'steady CPU', 'µs/renew', 'ELU', 'renewals', 'interval', 'sent peak/100ms', 'mean', 'peak÷mean', 'renew p99', 'acquire all', 'lost', 'target']];
    for (const r of scale) {
      const targets = [byId.get(`c.N${r.leases}.heap`), byId.get(`c.N${r.leases}.cpu`)].map(verdict);
      c.push([
        `N=${int(r.leases)} ${r.leaseTtlS}s lease ${r.holdS}s`,
        kib(r.heapBytesPerLease),
        kib(r.rssBytesPerLease),
        `${r.cpuPercent.toFixed(2)}%`,
        Number.isFinite(r.steadyCpuPercent) ? `${r.steadyCpuPercent.toFixed(2)}%` : 'n/a',
        int(r.cpuPerRenewalUs),
        r.eventLoopUtilization.toFixed(3),
        int(r.renewals),
        ms(r.renewIntervalMs),
        int(r.renewPeakPer100ms),
        r.renewMeanPer100ms.toFixed(1),
        times(r.renewPeakToMean),
        ms(r.renewLatencyP99Ms),
        ms(r.acquireMs),
        int(r.lost + r.errors),
        `heap ${targets[0]}; cpu ${targets[1]}`,
      ]);
    }
    out.push(table(c, new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])));
  }
  const cmp = report.serverComparison;
  if (cmp) {
    out.push('');
    out.push(`test server vs external server (baseline loop, W=${cmp.workers}): ${int(cmp.embeddedOpsPerS)}/s vs ${int(cmp.externalOpsPerS)}/s = ${times(cmp.ratio)}`);
  }
  const missed = report.targets.filter((t) => t.met === false);
  const met = report.targets.filter((t) => t.met === true);
  out.push('');
  out.push(`targets: ${met.length} met, ${missed.length} missed${missed.length ? ` (${missed.map((t) => t.id).join(', ')})` : ''}; ran ${report.durationS.toFixed(1)} s`);
  for (const note of report.notes) out.push(`note: ${note}`);
  return out.join('\n') + '\n';
}

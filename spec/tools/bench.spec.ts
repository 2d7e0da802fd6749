import { LatencySample, percentile } from '../../lib/cli/bench/stats.js';
import { median, ratio } from '../../tools/bench/figures.js';
import { parseBenchArgs, resolveBenchOptions } from '../../tools/bench/options.js';
import { BenchReport, formatReport } from '../../tools/bench/report.js';
import { runBench } from '../../tools/bench/runner.js';
import { UsageError } from '../../lib/cli/global-options.js';

// The benchmark harness (tools/bench, `npm run bench`). A smoke run: a few hundred operations against an embedded server, no timing assertions —
// only that every scenario runs, counts add up, and every ratio is a finite number.
describe('runBench (smoke)', () => {
  const W = 3;
  const R = 10;
  const HW = 3;
  const HR = 5;
  const N = 50;
  let report: BenchReport;

  beforeAll(async () => {
    report = await runBench({
      quick: true,
      embedded: 'in-process',
      workers: [W],
      rounds: R,
      trials: 2,
      warmupRounds: 2,
      handoffWorkers: HW,
      handoffRounds: HR,
      leases: [N],
      seconds: 1.5,
      leaseTtlS: 2,
    });
  }, 60_000);

  test('every scenario is present', () => {
    expect(Object.keys(report.scenarios).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(report.scenarios.a).toHaveLength(1);
    expect(report.scenarios.e).toHaveLength(1);
    expect(report.scenarios.d).toHaveLength(1);
    expect(report.scenarios.c).toHaveLength(1);
    expect(report.server.kind).toContain('in-process');
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.failedOperations).toBe(0);
  });

  test('(e): the facade and Observable job loops ran against the raw loop, with no self-inflicted queued', () => {
    const [e] = report.scenarios.e!;
    expect(e!.workers).toBe(W);
    for (const figures of [e!.facade, e!.observable, e!.baseline]) {
      expect(figures.opsPerS).toBeGreaterThan(0);
      expect(figures.errors).toBe(0);
    }
    expect(Number.isFinite(e!.ratios.facade) && Number.isFinite(e!.ratios.observable)).toBe(true);
    expect(e!.queued).toEqual({ facade: 0, observable: 0 });
    expect(report.targets.map((t) => t.id)).toEqual(expect.arrayContaining([`e.W${W}.facade`, `e.W${W}.observable`, `e.W${W}.queued`]));
  });

  test('(a) and (d): both drivers did W × R cycles in every trial, with finite ratios', () => {
    for (const r of [...report.scenarios.a!, ...report.scenarios.d!]) {
      expect(r.workers).toBe(W);
      for (const trials of [r.trials.client, r.trials.baseline]) {
        expect(trials).toHaveLength(2);
        for (const t of trials) {
          expect(t.ops).toBe(W * R);
          expect(t.errors).toBe(0);
          expect(t.latency.count).toBe(W * R);
        }
      }
      for (const value of Object.values(r.ratios)) expect(Number.isFinite(value)).toBe(true);
      expect(r.client.opsPerS).toBeGreaterThan(0);
      expect(r.clientConnections).toBeGreaterThan(0);
    }
  });

  test('(f): the HTTP client and the raw fetch loop both ran, medians and finite ratios, the target checked', () => {
    const f = report.scenarios.f!;
    expect(f.rounds).toBe(R);
    for (const side of [f.client, f.baseline]) {
      expect(side.errors).toBe(0);
      expect(side.opsPerS).toBeGreaterThan(0);
      expect(side.p50Ms).toBeGreaterThan(0);
    }
    for (const value of Object.values(f.ratios)) expect(Number.isFinite(value)).toBe(true);
    expect(report.targets.find((t) => t.id === 'f.throughput')).toMatchObject({ op: '>=', limit: 0.9, value: f.ratios.throughput });
    expect(formatReport(report)).toMatch(/\(f\) HTTP W=1×10\s+throughput/);
  });

  test('(b): every acquisition counted, hand-offs measured, finite ratios', () => {
    const b = report.scenarios.b!;
    for (const t of [...b.trials.client, ...b.trials.baseline, ...b.trials.enqueueWait]) {
      expect(t.acquisitions).toBe(HW * HR);
      expect(t.errors).toBe(0);
      expect(t.handoff.count).toBeGreaterThan(0);
      expect(t.handoff.count).toBeLessThanOrEqual(HW * HR);
    }
    for (const value of Object.values(b.ratios)) expect(Number.isFinite(value)).toBe(true);
    // The raw e+w loop is a third driver, reported beside the baseline.
    expect(b.trials.enqueueWait).toHaveLength(2);
    expect(b.enqueueWait.p50Ms).toBeGreaterThan(0);
    expect(formatReport(report)).toContain('raw e+w p50 (protocol)');
  });

  test('(c): all leases held and renewed, none lost, per-lease figures finite', () => {
    const c = report.scenarios.c![0]!;
    expect(c.leases).toBe(N);
    expect(c.lost).toBe(0);
    expect(c.errors).toBe(0);
    expect(c.renewals).toBeGreaterThanOrEqual(N);
    for (const value of [c.heapBytesPerLease, c.rssBytesPerLease, c.cpuPercent, c.steadyCpuPercent, c.cpuPerRenewalUs, c.renewIntervalMs, c.renewPeakToMean, c.renewLatencyP99Ms, c.acquireMs]) {
      expect(Number.isFinite(value)).toBe(true);
    }
  });

  test('targets are checked and the table names every scenario', () => {
    expect(report.targets.map((t) => t.id)).toEqual(expect.arrayContaining([`a.W${W}.throughput`, `a.W${W}.p99`, 'b.p50', `c.N${N}.heap`, `d.W${W}.throughput`]));
    const text = formatReport(report);
    for (const name of ['(a) W=3', '(b) hand-off', '(c) scale', '(d) TLS W=3', 'targets:']) expect(text).toContain(name);
    expect(() => JSON.stringify(report)).not.toThrow();
  });
});

describe('bench flags', () => {
  test('lists, numbers and the global flags', () => {
    const parsed = parseBenchArgs(['--scenarios', 'a,c', '--workers=2,4', '--rounds', '7', '--seconds', '0.5', '--servers', '127.0.0.1:7000', '--json'], {});
    expect(parsed.json).toBe(true);
    expect(parsed.options).toMatchObject({ scenarios: ['a', 'c'], workers: [2, 4], rounds: 7, seconds: 0.5, server: { host: '127.0.0.1', port: 7000 } });
  });

  test('DFLOCKD_SERVERS applies when --servers is absent; --server-node-arg repeats', () => {
    const parsed = parseBenchArgs(['--server-node-arg', '--cpu-prof', '--server-node-arg=--max-old-space-size=512'], { DFLOCKD_SERVERS: '127.0.0.1:7001' });
    expect(parsed.options.server).toEqual({ host: '127.0.0.1', port: 7001 });
    expect(parsed.options.serverNodeArgs).toEqual(['--cpu-prof', '--max-old-space-size=512']);
  });

  test('bad flags are usage errors naming the flag', () => {
    expect(() => parseBenchArgs(['--scenarios', 'a,x'], {})).toThrow(UsageError);
    expect(() => parseBenchArgs(['--workers', '0'], {})).toThrow(/--workers/);
    expect(() => parseBenchArgs(['--bogus'], {})).toThrow(UsageError);
    expect(() => resolveBenchOptions({ handoffWorkers: 1 })).toThrow(/--handoff-workers/);
  });

  test('--quick shrinks the run', () => {
    const quick = resolveBenchOptions({}, true);
    expect(quick.rounds * Math.max(...quick.workers)).toBeLessThan(500);
    expect(resolveBenchOptions({ rounds: 3 }, true).rounds).toBe(3);
  });
});

describe('bench stats', () => {
  test('nearest-rank percentiles, medians and ratios', () => {
    const s = new LatencySample(100);
    for (let i = 100; i >= 1; i--) s.record(i);
    expect(s.summary()).toMatchObject({ count: 100, p50Ms: 50, p90Ms: 90, p99Ms: 99, maxMs: 100 });
    expect(percentile([], 50)).toBe(0);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(ratio(1, 0)).toBeNaN();
  });
});

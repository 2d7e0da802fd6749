/**
 * {@link runBench}: starts or finds the servers, runs the scenarios with the client and the
 * raw-socket baseline interleaved, and returns the {@link BenchReport}.
 *
 * @module
 */

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import type * as tls from 'node:tls';
import { DflockdClient } from '../../lib/client.js';
import type { ClientOptions } from '../../lib/options.js';
import { clientHandoff, clientUncontended, facadeJobLoop, observableJobLoop } from './client-drivers.js';
import { clientHttpDriver, rawHttpDriver } from './http-drivers.js';
import { DflockdHttpClient } from '../../lib/http/index.js';
import { BenchOptions, resolveBenchOptions } from './options.js';
import { ProgressSink, silentProgress } from '../../lib/cli/bench/progress.js';
import { rawHandoff, rawUncontended } from './raw-drivers.js';
import { RawTarget, openRawConnections } from './raw-socket.js';
import { BenchReport, HandoffFigures, HandoffResult, HttpResult, JobLoopResult, ScaleResult, ServerComparison, ThroughputFigures, ThroughputResult, checkTargets } from './report.js';
import { collector, runScale } from './scale.js';
import { BenchServer, externalServer, findTlsFixtures, startEmbeddedServer } from './servers.js';
import { median, ratio } from './figures.js';
import { HandoffDriver, HandoffTrial, ThroughputDriver, ThroughputTrial, withTimeout } from './trial.js';

/** What {@link runBench} accepts: any {@link BenchOptions}, plus `quick` for the smoke profile. */
export type BenchRunOptions = Partial<BenchOptions> & { readonly quick?: boolean };

/** Optional collaborators of a run. */
export interface BenchHooks {
  /** Receives progress (the CLI passes a TTY bar). @default silent */
  readonly progress?: ProgressSink;
}

/** One server as both drivers see it. */
interface Target {
  readonly server: BenchServer;
  readonly client: ClientOptions;
  readonly raw: RawTarget;
}

interface Context {
  readonly options: BenchOptions;
  readonly progress: ProgressSink;
  readonly prefix: string;
  readonly timeoutMs: number;
}

/**
 * Runs the benchmark and returns its report. Servers it started are stopped before it returns.
 *
 * @example
 * ```ts
 * const report = await runBench({ quick: true, scenarios: ['a', 'b'] });
 * console.log(formatReport(report));
 * ```
 */
export async function runBench(input: BenchRunOptions = {}, hooks: BenchHooks = {}): Promise<BenchReport> {
  const { quick = false, ...partial } = input;
  const options = resolveBenchOptions(partial, quick);
  const startedAt = new Date();
  const t0 = performance.now();
  const ctx: Context = {
    options,
    progress: hooks.progress ?? silentProgress,
    prefix: `bench-${crypto.randomBytes(4).toString('hex')}`,
    timeoutMs: options.trialTimeoutS * 1000,
  };
  const notes: string[] = [];
  const started: BenchServer[] = [];
  const want = new Set(options.scenarios);
  try {
    const maxLocks = options.leases.reduce((a, b) => a + b, 0) + options.workers.reduce((a, b) => a + b, 0) + 1024;
    const embed = async (tlsFiles?: { cert: string; key: string }): Promise<BenchServer> => {
      const server = await startEmbeddedServer({
        mode: options.embedded,
        maxLocks,
        authToken: options.authToken,
        tlsCert: tlsFiles?.cert,
        tlsKey: tlsFiles?.key,
        nodeArgs: options.serverNodeArgs,
      });
      started.push(server);
      return server;
    };
    const plainServer = options.server ? externalServer(options.server.host, options.server.port, false) : await embed();
    const plain = target(plainServer, undefined, options.authToken);
    if (plainServer.kind === 'embedded-in-process') notes.push('the embedded server ran in this process: client and baseline share its event loop, and (c) heap/CPU include it');

    let tlsTarget: Target | undefined;
    if (want.has('d')) {
      const fixtures = findTlsFixtures();
      const cert = options.tlsCert ?? fixtures?.cert;
      const key = options.tlsKey ?? fixtures?.key;
      const clientTls = options.tls ?? (fixtures ? { ca: fs.readFileSync(fixtures.ca) } : undefined);
      if (clientTls === undefined || (options.tlsServer === undefined && (cert === undefined || key === undefined))) {
        notes.push('(d) skipped: no TLS material (give --tls-ca, and --tls-cert/--tls-key or --tls-servers)');
      } else {
        const tlsServer = options.tlsServer ? externalServer(options.tlsServer.host, options.tlsServer.port, true) : await embed({ cert: cert!, key: key! });
        tlsTarget = target(tlsServer, clientTls, options.authToken);
      }
    }

    ctx.progress.plan(countSteps(options, want, tlsTarget !== undefined, plainServer.kind === 'external'));

    const scenarios: { a?: ThroughputResult[]; b?: HandoffResult; c?: ScaleResult[]; d?: ThroughputResult[]; e?: JobLoopResult[]; f?: HttpResult } = {};
    // (c) runs first: it measures heap and CPU, which what (a) and (b) leave behind would skew.
    if (want.has('c')) {
      scenarios.c = [];
      const gc = collector();
      if (gc.access === 'unavailable') notes.push('(c) no gc() available: heap figures are unreliable (run node with --expose-gc)');
      for (const n of options.leases) {
        scenarios.c.push(
          await runScale({
            clientOptions: plain.client,
            keyPrefix: `${ctx.prefix}-c${n}`,
            leases: n,
            leaseTtlS: options.leaseTtlS,
            holdS: options.seconds,
            timeoutMs: ctx.timeoutMs,
            includesServer: plainServer.kind === 'embedded-in-process',
            gc,
            progress: ctx.progress,
          }),
        );
      }
    }
    if (want.has('a')) {
      scenarios.a = [];
      for (const w of options.workers) scenarios.a.push(await throughputScenario(ctx, 'a', plain, w));
    }
    if (want.has('b')) scenarios.b = await handoffScenario(ctx, plain);
    if (want.has('e')) {
      scenarios.e = [];
      for (const w of options.workers) scenarios.e.push(await jobLoopScenario(ctx, plain, w));
    }
    if (tlsTarget !== undefined) {
      scenarios.d = [];
      for (const w of options.workers) scenarios.d.push(await throughputScenario(ctx, 'd', tlsTarget, w));
    }
    if (want.has('f')) {
      // A child unless --in-process, as for (a)-(e): measured, 7 alternating runs of one build, 0.86× in-process, 0.90× in a child.
      const httpServer = await startEmbeddedServer({ mode: options.embedded, maxLocks: 1024, http: true, nodeArgs: options.serverNodeArgs });
      started.push(httpServer);
      scenarios.f = await httpScenario(ctx, httpServer.httpUrl!);
      notes.push(
        httpServer.kind === 'embedded-child'
          ? "(f) ran against the HTTP API of an embedded test server in a child process (as a real server would be: not on the client's event loop)"
          : "(f) ran against an in-process test server's HTTP API (client, baseline and server share one event loop)",
      );
    }
    let serverComparison: ServerComparison | undefined;
    if (plainServer.kind === 'external' && want.has('a')) serverComparison = await compareServers(ctx, plain, target(await embed(), undefined, options.authToken));
    else if (want.has('a')) notes.push('no external server (--servers): the test server was not compared with a real one');

    const errors =
      [...(scenarios.a ?? []), ...(scenarios.d ?? [])].reduce((sum, r) => sum + r.client.errors + r.baseline.errors, 0) +
      (scenarios.e ?? []).reduce((sum, r) => sum + r.facade.errors + r.observable.errors + r.baseline.errors, 0) +
      (scenarios.b ? scenarios.b.client.errors + scenarios.b.baseline.errors + scenarios.b.enqueueWait.errors : 0) +
      (scenarios.c ?? []).reduce((sum, r) => sum + r.lost + r.errors, 0) +
      (scenarios.f ? scenarios.f.client.errors + scenarios.f.baseline.errors : 0);
    if (errors > 0) notes.push(`${errors} operations failed or leases were lost during the run (see the errors and lost columns)`);
    return {
      version: 1,
      startedAt: startedAt.toISOString(),
      durationS: (performance.now() - t0) / 1000,
      machine: machine(),
      server: {
        kind: describe(plainServer),
        address: `${plainServer.host}:${plainServer.port}`,
        ...(tlsTarget ? { tlsKind: describe(tlsTarget.server), tlsAddress: `${tlsTarget.server.host}:${tlsTarget.server.port}` } : {}),
      },
      settings: {
        quick,
        trials: options.trials,
        rounds: options.rounds,
        workers: options.workers,
        handoffWorkers: options.handoffWorkers,
        handoffRounds: options.handoffRounds,
        leases: options.leases,
        seconds: options.seconds,
        leaseTtlS: options.leaseTtlS,
      },
      scenarios,
      ...(serverComparison ? { serverComparison } : {}),
      targets: checkTargets(scenarios),
      failedOperations: errors,
      notes,
    };
  } finally {
    ctx.progress.finish();
    await Promise.all(started.map((server) => server.stop()));
  }
}

function target(server: BenchServer, tlsOptions: tls.ConnectionOptions | undefined, authToken: string | undefined): Target {
  const auth = authToken !== undefined ? { authToken } : {};
  return {
    server,
    client: { servers: [[server.host, server.port]], ...(tlsOptions ? { tls: tlsOptions } : {}), ...auth },
    raw: { host: server.host, port: server.port, tls: tlsOptions, authToken },
  };
}

function describe(server: BenchServer): string {
  return server.kind === 'external' ? 'external server' : server.kind === 'embedded-child' ? 'embedded DflockdTestServer (child process)' : 'embedded DflockdTestServer (in-process)';
}

function machine(): BenchReport['machine'] {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    totalMemMiB: Math.round(os.totalmem() / 1024 / 1024),
  };
}

/** Progress steps: a warm-up and `trials` trials per driver per workload, two per scale run. */
function countSteps(o: BenchOptions, want: ReadonlySet<string>, tls: boolean, external: boolean): number {
  const perWorkload = 2 * (o.trials + (o.warmupRounds > 0 ? 1 : 0));
  let steps = 0;
  if (want.has('a')) steps += o.workers.length * perWorkload + (external ? perWorkload : 0);
  if (want.has('b')) steps += (perWorkload / 2) * 3; // three drivers: client, baseline, baseline e+w
  if (want.has('c')) steps += 2 * o.leases.length;
  if (want.has('d') && tls) steps += o.workers.length * perWorkload;
  if (want.has('e')) steps += o.workers.length * (perWorkload / 2) * 3; // three drivers: facade, Observable, baseline
  if (want.has('f')) steps += perWorkload;
  return steps;
}

/**
 * Runs a warm-up of each driver, then `trials` trials of each, alternating which goes first
 * (ABBA…), so drift on a shared machine hits both alike.
 */
async function interleaved<T>(ctx: Context, label: string, units: (rounds: number) => number, drivers: readonly [string, (rounds: number, onOp: () => void) => Promise<T>][], rounds: number, warmupRounds: number): Promise<T[][]> {
  const results: T[][] = drivers.map(() => []);
  const once = (index: number, what: string, r: number): Promise<T> => {
    const [name, run] = drivers[index]!;
    ctx.progress.step(`${label} ${name} ${what}`, units(r));
    return withTimeout(run(r, () => ctx.progress.advance()), ctx.timeoutMs, `${label} ${name} ${what}`);
  };
  if (warmupRounds > 0) for (let d = 0; d < drivers.length; d++) await once(d, 'warm-up', warmupRounds);
  for (let t = 0; t < ctx.options.trials; t++) {
    const order = t % 2 === 0 ? drivers.map((_, d) => d) : drivers.map((_, d) => drivers.length - 1 - d);
    for (const d of order) results[d]!.push(await once(d, `trial ${t + 1}/${ctx.options.trials}`, rounds));
  }
  return results;
}

function throughputFigures(trials: readonly ThroughputTrial[]): ThroughputFigures {
  return {
    opsPerS: median(trials.map((t) => t.opsPerS)),
    p50Ms: median(trials.map((t) => t.latency.p50Ms)),
    p99Ms: median(trials.map((t) => t.latency.p99Ms)),
    errors: trials.reduce((sum, t) => sum + t.errors, 0),
  };
}

/**
 * (f)'s warm-up, in cycles, per `--warmup-rounds`: one worker, so ×10 gives it the operations
 * (a) warms up with at W=10 (10,000 by default). Measured, 7 alternating runs of one build: after
 * 1,000 cycles the client's JIT had not settled, (f) median 0.81×; after 10,000, 0.90×.
 */
const HTTP_WARMUP_SCALE = 10;

/**
 * (f): the HTTP client against a raw `fetch` loop, one worker each, interleaved, on the HTTP API
 * at `url` of an embedded test server of its own — a child process unless `--in-process`, so
 * that the server's work does not run on the event loop of the drivers it is measuring.
 */
async function httpScenario(ctx: Context, url: string): Promise<HttpResult> {
  const { rounds, warmupRounds } = ctx.options;
  const client = new DflockdHttpClient({ url });
  try {
    const raw = await rawHttpDriver(url, `${ctx.prefix}-f-raw`);
    try {
      const clientDriver = clientHttpDriver(client, `${ctx.prefix}-f-client`);
      const [clientTrials, rawTrials] = await interleaved<ThroughputTrial>(
        ctx,
        '(f) HTTP',
        (r) => r,
        [
          ['client', (r, onOp) => clientDriver.run(r, onOp)],
          ['baseline', (r, onOp) => raw.run(r, onOp)],
        ],
        rounds,
        warmupRounds * HTTP_WARMUP_SCALE,
      );
      const c = throughputFigures(clientTrials!);
      const b = throughputFigures(rawTrials!);
      return { rounds, client: c, baseline: b, ratios: { throughput: ratio(c.opsPerS, b.opsPerS), p50: ratio(c.p50Ms, b.p50Ms), p99: ratio(c.p99Ms, b.p99Ms) } };
    } finally {
      await raw.close();
    }
  } finally {
    await client.close();
  }
}

async function throughputScenario(ctx: Context, scenario: 'a' | 'd', target: Target, workers: number): Promise<ThroughputResult> {
  const { rounds, warmupRounds } = ctx.options;
  const keys = Array.from({ length: workers }, (_, i) => `${ctx.prefix}-${scenario}-w${workers}-${i}`);
  const client = new DflockdClient(target.client);
  let connections = 0;
  const counter = client.events$.subscribe((event) => {
    if (event.type === 'connected') connections++;
  });
  const clientDriver = clientUncontended(client, keys);
  const conns = await openRawConnections(target.raw, workers);
  try {
    const rawDriver: ThroughputDriver = rawUncontended(conns, keys);
    const [clientTrials, rawTrials] = await interleaved<ThroughputTrial>(
      ctx,
      `(${scenario}) W=${workers}`,
      (r) => workers * r,
      [
        ['client', (r, onOp) => clientDriver.run(r, onOp)],
        ['baseline', (r, onOp) => rawDriver.run(r, onOp)],
      ],
      rounds,
      warmupRounds,
    );
    const c = throughputFigures(clientTrials!);
    const b = throughputFigures(rawTrials!);
    return {
      scenario,
      workers,
      rounds,
      client: c,
      baseline: b,
      ratios: { throughput: ratio(c.opsPerS, b.opsPerS), p50: ratio(c.p50Ms, b.p50Ms), p99: ratio(c.p99Ms, b.p99Ms) },
      clientConnections: connections,
      trials: { client: clientTrials!, baseline: rawTrials! },
    };
  } finally {
    clientDriver.dispose();
    counter.unsubscribe();
    for (const conn of conns) conn.close();
    await client.close();
  }
}

/** (e): the users' job loops on one key each (facade and Observable) against the raw `l`/`r` loop. */
async function jobLoopScenario(ctx: Context, target: Target, workers: number): Promise<JobLoopResult> {
  const { rounds, warmupRounds } = ctx.options;
  const keysOf = (who: string): string[] => Array.from({ length: workers }, (_, i) => `${ctx.prefix}-e-w${workers}-${who}-${i}`);
  const client = new DflockdClient(target.client);
  const facade = facadeJobLoop(client, keysOf('facade'));
  const observable = observableJobLoop(client, keysOf('rx'));
  const conns = await openRawConnections(target.raw, workers);
  try {
    const raw: ThroughputDriver = rawUncontended(conns, keysOf('raw'));
    const [facadeTrials, observableTrials, rawTrials] = await interleaved<ThroughputTrial>(
      ctx,
      `(e) W=${workers}`,
      (r) => workers * r,
      [
        ['facade', (r, onOp) => facade.run(r, onOp)],
        ['Observable', (r, onOp) => observable.run(r, onOp)],
        ['baseline', (r, onOp) => raw.run(r, onOp)],
      ],
      rounds,
      warmupRounds,
    );
    const f = throughputFigures(facadeTrials!);
    const o = throughputFigures(observableTrials!);
    const b = throughputFigures(rawTrials!);
    return {
      workers,
      rounds,
      facade: f,
      observable: o,
      baseline: b,
      ratios: { facade: ratio(f.opsPerS, b.opsPerS), observable: ratio(o.opsPerS, b.opsPerS) },
      queued: { facade: facade.queued(), observable: observable.queued() },
    };
  } finally {
    facade.dispose();
    for (const conn of conns) conn.close();
    await client.close();
  }
}

function handoffFigures(trials: readonly HandoffTrial[]): HandoffFigures {
  return {
    acquisitionsPerS: median(trials.map((t) => t.acquisitionsPerS)),
    p50Ms: median(trials.map((t) => t.handoff.p50Ms)),
    p99Ms: median(trials.map((t) => t.handoff.p99Ms)),
    handoffs: median(trials.map((t) => t.handoff.count)),
    errors: trials.reduce((sum, t) => sum + t.errors, 0),
  };
}

async function handoffScenario(ctx: Context, target: Target): Promise<HandoffResult> {
  const { handoffWorkers: workers, handoffRounds: rounds } = ctx.options;
  const key = `${ctx.prefix}-b`;
  const client = new DflockdClient(target.client);
  const clientDriver = clientHandoff(client, key, workers);
  const conns = await openRawConnections(target.raw, workers);
  const ewConns = await openRawConnections(target.raw, workers).catch((error: unknown) => {
    for (const conn of conns) conn.close();
    throw error;
  });
  try {
    const rawDriver: HandoffDriver = rawHandoff(conns, key);
    // The same raw loop speaking the client's `e`+`w`, on a key of its own: what the protocol
    // alone costs against the blocking `l`, with no client code at all.
    const ewDriver: HandoffDriver = rawHandoff(ewConns, `${key}-ew`, 'enqueue-wait');
    const warmup = ctx.options.warmupRounds;
    const [clientTrials, rawTrials, ewTrials] = await interleaved<HandoffTrial>(
      ctx,
      `(b) W=${workers}`,
      (r) => workers * r,
      [
        ['client', (r, onOp) => clientDriver.run(r, onOp)],
        ['baseline', (r, onOp) => rawDriver.run(r, onOp)],
        ['baseline e+w', (r, onOp) => ewDriver.run(r, onOp)],
      ],
      rounds,
      warmup,
    );
    const c = handoffFigures(clientTrials!);
    const b = handoffFigures(rawTrials!);
    const ew = handoffFigures(ewTrials!);
    return {
      workers,
      rounds,
      client: c,
      baseline: b,
      enqueueWait: ew,
      ratios: {
        p50: ratio(c.p50Ms, b.p50Ms),
        p99: ratio(c.p99Ms, b.p99Ms),
        throughput: ratio(c.acquisitionsPerS, b.acquisitionsPerS),
        enqueueWaitP50: ratio(ew.p50Ms, b.p50Ms),
        p50VsEnqueueWait: ratio(c.p50Ms, ew.p50Ms),
      },
      trials: { client: clientTrials!, baseline: rawTrials!, enqueueWait: ewTrials! },
    };
  } finally {
    clientDriver.dispose();
    for (const conn of [...conns, ...ewConns]) conn.close();
    await client.close();
  }
}

/** The same baseline loop against the embedded test server and the external one, interleaved. */
async function compareServers(ctx: Context, external: Target, embedded: Target): Promise<ServerComparison> {
  const workers = ctx.options.workers[0]!;
  const keys = Array.from({ length: workers }, (_, i) => `${ctx.prefix}-cmp-${i}`);
  const externalConns = await openRawConnections(external.raw, workers);
  const embeddedConns = await openRawConnections(embedded.raw, workers);
  try {
    const [embeddedTrials, externalTrials] = await interleaved<ThroughputTrial>(
      ctx,
      `server comparison W=${workers}`,
      (r) => workers * r,
      [
        ['test server', (r, onOp) => rawUncontended(embeddedConns, keys).run(r, onOp)],
        ['external server', (r, onOp) => rawUncontended(externalConns, keys).run(r, onOp)],
      ],
      ctx.options.rounds,
      ctx.options.warmupRounds,
    );
    const embeddedOpsPerS = median(embeddedTrials!.map((t) => t.opsPerS));
    const externalOpsPerS = median(externalTrials!.map((t) => t.opsPerS));
    return { workers, embeddedOpsPerS, externalOpsPerS, ratio: ratio(embeddedOpsPerS, externalOpsPerS) };
  } finally {
    for (const conn of [...externalConns, ...embeddedConns]) conn.close();
  }
}

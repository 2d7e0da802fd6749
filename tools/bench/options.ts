/**
 * Options of the benchmark harness (`npm run bench`): defaults, the `--quick` profile, and the
 * flag parser.
 *
 * @module
 */

import type * as tls from 'node:tls';
import { parseServer } from '../../lib/options.js';
import type { ServerAddress } from '../../lib/options.js';
import { GLOBAL_HELP, GLOBAL_OPTIONS, UsageError, clientOptionsFrom, parseCommandLine, parseNumberFlag } from '../../lib/cli/global-options.js';

/** The scenarios of the benchmark ((f): the HTTP client against a raw fetch loop). */
export type ScenarioId = 'a' | 'b' | 'c' | 'd' | 'e' | 'f';

/** Every scenario, in report order. */
export const SCENARIOS: readonly ScenarioId[] = Object.freeze(['a', 'b', 'c', 'd', 'e', 'f'] as const);

/** Where the embedded server runs when no external server is given. */
export type EmbeddedMode = 'child' | 'in-process';

/** Everything a bench run needs; {@link resolveBenchOptions} fills in the defaults. */
export interface BenchOptions {
  /** Scenarios to run, in report order. @default all four */
  readonly scenarios: readonly ScenarioId[];
  /** Worker counts W for (a) and (d). @default [10, 50] */
  readonly workers: readonly number[];
  /** Rounds R per worker per trial in (a) and (d). @default 200 */
  readonly rounds: number;
  /** Measured trials per driver, interleaved client/baseline; medians are reported. @default 5 */
  readonly trials: number;
  /**
   * Rounds per worker of the untimed warm-up trial of each driver in (a), (b) and (d). 0 skips
   * warm-ups. @default 1000 (the client's JIT settles after about 10,000 operations: measured,
   * its p99 in (a) fell from 5.9 ms to 1.2 ms over the first 16,000)
   */
  readonly warmupRounds: number;
  /** Workers contending for the one key in (b). @default 10 */
  readonly handoffWorkers: number;
  /** Acquisitions per worker per trial in (b). @default 100 */
  readonly handoffRounds: number;
  /** Lease counts N for (c). @default [1000, 10000] */
  readonly leases: readonly number[];
  /** Hold window T of (c), in seconds. @default 10 */
  readonly seconds: number;
  /** Lease length requested in (c), in seconds. @default 30 */
  readonly leaseTtlS: number;
  /** External plain-TCP server; undefined starts an embedded DflockdTestServer. */
  readonly server: ServerAddress | undefined;
  /** External TLS server for (d); undefined starts an embedded TLS server. */
  readonly tlsServer: ServerAddress | undefined;
  /** Auth token sent by both the client and the baseline. */
  readonly authToken: string | undefined;
  /** TLS options of the client and the baseline in (d). @default trust spec/fixtures/tls/ca.pem when present */
  readonly tls: tls.ConnectionOptions | undefined;
  /** Certificate and key of the embedded TLS server (PEM files). @default spec/fixtures/tls/server{,-key}.pem */
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  /**
   * `child` runs the embedded server in its own Node process (so the client, the baseline and
   * the server do not share one event loop, as with a real server); `in-process` shares it.
   * @default 'child' from the CLI, 'in-process' when no CLI script can be found
   */
  readonly embedded: EmbeddedMode;
  /** Extra Node flags for the child server process (e.g. `--cpu-prof`). */
  readonly serverNodeArgs: readonly string[];
  /** Bound on any one trial, in seconds; a trial running longer fails the run. @default 300 */
  readonly trialTimeoutS: number;
}

/** The defaults of a full run. */
export const DEFAULT_BENCH_OPTIONS: BenchOptions = Object.freeze({
  scenarios: SCENARIOS,
  workers: Object.freeze([10, 50]),
  rounds: 200,
  trials: 5,
  warmupRounds: 1000,
  handoffWorkers: 10,
  handoffRounds: 100,
  leases: Object.freeze([1000, 10000]),
  seconds: 10,
  leaseTtlS: 30,
  server: undefined,
  tlsServer: undefined,
  authToken: undefined,
  tls: undefined,
  tlsCert: undefined,
  tlsKey: undefined,
  embedded: 'child',
  serverNodeArgs: Object.freeze([]),
  trialTimeoutS: 300,
});

/** `--quick`: a smoke run of a few hundred operations per scenario (for CI; no figure means much). */
export const QUICK_BENCH_OPTIONS: Partial<BenchOptions> = Object.freeze({
  workers: Object.freeze([4, 8]),
  rounds: 20,
  trials: 2,
  warmupRounds: 5,
  handoffWorkers: 4,
  handoffRounds: 10,
  leases: Object.freeze([200]),
  seconds: 2,
  leaseTtlS: 2,
  trialTimeoutS: 60,
});

/** Fills `partial` with the defaults (of the quick profile first, when `quick`) and validates it. */
export function resolveBenchOptions(partial: Partial<BenchOptions> = {}, quick = false): BenchOptions {
  const o: BenchOptions = { ...DEFAULT_BENCH_OPTIONS, ...(quick ? QUICK_BENCH_OPTIONS : {}), ...stripUndefined(partial) };
  const positiveInt = (n: number, name: string): void => {
    if (!Number.isInteger(n) || n < 1) throw new UsageError(undefined, `${name} must be a positive integer, got ${String(n)}`);
  };
  if (o.scenarios.length === 0 || o.scenarios.some((s) => !SCENARIOS.includes(s))) throw new UsageError(undefined, `--scenarios must list some of ${SCENARIOS.join(',')}`);
  o.workers.forEach((w) => positiveInt(w, '--workers'));
  o.leases.forEach((n) => positiveInt(n, '--leases'));
  positiveInt(o.rounds, '--rounds');
  positiveInt(o.trials, '--trials');
  positiveInt(o.handoffWorkers, '--handoff-workers');
  positiveInt(o.handoffRounds, '--handoff-rounds');
  positiveInt(o.leaseTtlS, '--lease');
  if (!Number.isInteger(o.warmupRounds) || o.warmupRounds < 0) throw new UsageError(undefined, `--warmup-rounds must be an integer ≥ 0, got ${o.warmupRounds}`);
  if (!(o.seconds > 0 && o.seconds <= 3600)) throw new UsageError(undefined, `--seconds must be in (0, 3600], got ${o.seconds}`);
  if (!(o.trialTimeoutS > 0)) throw new UsageError(undefined, `trialTimeoutS must be positive, got ${o.trialTimeoutS}`);
  if (o.handoffWorkers < 2 && o.scenarios.includes('b')) throw new UsageError(undefined, '--handoff-workers must be at least 2 (a hand-off needs a waiter)');
  return { ...o, scenarios: SCENARIOS.filter((s) => o.scenarios.includes(s)) };
}

function stripUndefined<T extends object>(partial: T): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The parsed command line: options, output mode, or a help request. */
export interface BenchCommandLine {
  readonly help: boolean;
  readonly version: boolean;
  readonly json: boolean;
  readonly quick: boolean;
  readonly options: Partial<BenchOptions>;
}

/** Usage text of `npm run bench -- --help`. */
export const BENCH_HELP = [
  'Usage: npm run bench -- [flags] [global flags]',
  '',
  'Benchmarks the client against a raw-socket baseline: client and baseline trials are',
  'interleaved, medians reported, every figure also as a ratio to the baseline. Runs against',
  'the first of --servers / DFLOCKD_SERVERS when set, otherwise against an embedded',
  'DflockdTestServer in a child process.',
  '',
  'Scenarios:',
  '  a  uncontended acquire+release: W workers x R rounds, one key per worker',
  "  b  contended FIFO hand-off: W workers on one key (release sent -> 'acquired' at the next holder);",
  "     also a raw loop sending e+w (the client's protocol) instead of l, to show the protocol's share",
  '  c  N leases held at once for T seconds: heap/RSS per lease, renew CPU, renewal spread',
  '  d  (a) over TLS (--tls-servers, or an embedded TLS server)',
  '',
  'Flags:',
  '  --scenarios a,b,c,d,e,f  scenarios to run (default all; f: HTTP API of the embedded server)',
  '  --workers 10,50          worker counts W for (a) and (d)',
  '  --rounds N               rounds per worker per trial in (a)/(d) (default 200)',
  '  --trials N               measured trials per driver, interleaved (default 5)',
  '  --warmup-rounds N        rounds per worker of the untimed warm-up in (a)/(b)/(d) (default 1000; 0 = none)',
  '  --handoff-workers N      workers on the one key of (b) (default 10)',
  '  --handoff-rounds N       acquisitions per worker per trial in (b) (default 100)',
  '  --leases 1000,10000      lease counts N for (c)',
  '  --seconds T              hold window of (c) in seconds (default 10; decimals allowed)',
  '  --lease S                lease length of (c) in seconds (default 30)',
  '  --tls-servers host:port  external TLS server for (d); the global --tls* flags configure the',
  '                           client side (default: trust spec/fixtures/tls/ca.pem)',
  '  --tls-cert FILE          certificate of the embedded TLS server (default spec/fixtures/tls/server.pem)',
  '  --tls-key FILE           key of the embedded TLS server (default spec/fixtures/tls/server-key.pem)',
  '  --in-process             run the embedded server in this process instead of a child process',
  '  --server-node-arg ARG    extra Node flag for the embedded server process (repeatable; e.g. --cpu-prof)',
  '  --json                   print the report as JSON on stdout',
  '  --quick                  a smoke run (a few hundred operations per scenario; figures not meaningful)',
  '',
  "Exact heap figures in (c) need 'node --expose-gc' (otherwise the bench enables gc at runtime).",
  '',
  GLOBAL_HELP,
  'Exit status:',
  '  0             the run completed (missed targets are reported, not failures)',
  '  64            usage error',
  '  69            a server could not be reached or started, or operations failed',
  '  70            internal error',
  '',
].join('\n');

const BENCH_OPTIONS = {
  ...GLOBAL_OPTIONS,
  scenarios: { type: 'string' },
  workers: { type: 'string' },
  rounds: { type: 'string' },
  trials: { type: 'string' },
  'warmup-rounds': { type: 'string' },
  'handoff-workers': { type: 'string' },
  'handoff-rounds': { type: 'string' },
  leases: { type: 'string' },
  seconds: { type: 'string' },
  lease: { type: 'string' },
  'tls-servers': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'in-process': { type: 'boolean' },
  'server-node-arg': { type: 'string' },
  json: { type: 'boolean' },
  quick: { type: 'boolean' },
} as const;

/**
 * Parses the harness's arguments with the CLI's shared parser and global flags
 * (`--servers`, `--auth-token`, `--tls`, `--tls-ca`, `--tls-insecure`, with their
 * environment variables).
 *
 * @throws UsageError naming the bad flag
 * @example
 * ```ts
 * const { options } = parseBenchArgs(['--scenarios', 'a,b', '--workers', '10']);
 * ```
 */
export function parseBenchArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchCommandLine {
  // `--server-node-arg` may repeat; parseArgs keeps the last, so collect them first.
  const nodeArgs: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--server-node-arg') {
      if (i + 1 >= argv.length) throw new UsageError('--server-node-arg', 'needs a value');
      nodeArgs.push(argv[++i]!);
    } else if (arg.startsWith('--server-node-arg=')) nodeArgs.push(arg.slice('--server-node-arg='.length));
    else rest.push(arg);
  }
  const { values } = parseCommandLine(rest, BENCH_OPTIONS);
  const int = (flag: string, raw: string | undefined): number | undefined => parseNumberFlag(flag, raw, { integer: true, min: 1 });
  const intList = (flag: string, raw: string | undefined): number[] | undefined =>
    raw === undefined ? undefined : raw.split(',').map((part) => int(flag, part.trim())!);
  const base = clientOptionsFrom(values, env);
  const first = base.servers?.[0];
  const server = first === undefined ? undefined : parseServer(first);
  let tlsServer: ServerAddress | undefined;
  if (values['tls-servers'] !== undefined) {
    try {
      tlsServer = parseServer(values['tls-servers'].split(',')[0]!.trim());
    } catch (error) {
      throw new UsageError('--tls-servers', (error as Error).message.replace(/^server: /, ''));
    }
  }
  const scenarios = values.scenarios?.split(',').map((s) => s.trim());
  if (scenarios !== undefined && (scenarios.length === 0 || scenarios.some((s) => !(SCENARIOS as readonly string[]).includes(s)))) {
    throw new UsageError('--scenarios', `expected some of ${SCENARIOS.join(',')}, got ${JSON.stringify(values.scenarios)}`);
  }
  const options: Partial<BenchOptions> = {
    scenarios: scenarios as ScenarioId[] | undefined,
    workers: intList('--workers', values.workers),
    rounds: int('--rounds', values.rounds),
    trials: int('--trials', values.trials),
    warmupRounds: parseNumberFlag('--warmup-rounds', values['warmup-rounds'], { integer: true, min: 0 }),
    handoffWorkers: int('--handoff-workers', values['handoff-workers']),
    handoffRounds: int('--handoff-rounds', values['handoff-rounds']),
    leases: intList('--leases', values.leases),
    seconds: parseNumberFlag('--seconds', values.seconds, { integer: false, min: 0, minExclusive: true }),
    leaseTtlS: int('--lease', values.lease),
    server,
    tlsServer,
    authToken: base.authToken,
    tls: base.tls,
    tlsCert: values['tls-cert'],
    tlsKey: values['tls-key'],
    embedded: values['in-process'] ? 'in-process' : undefined,
    serverNodeArgs: nodeArgs.length > 0 ? nodeArgs : undefined,
  };
  return { help: values.help === true, version: values.version === true, json: values.json === true, quick: values.quick === true, options };
}

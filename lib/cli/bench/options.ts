/**
 * Options of `dflockd-rx bench`: defaults, the `--quick` profile, and the flag parser.
 *
 * @module
 */

import { parseServer } from '../../options.js';
import type { ServerAddress } from '../../options.js';

/** The four scenarios of the benchmark. */
export type ScenarioId = 'a' | 'b' | 'c' | 'd';

/** Every scenario, in report order. */
export const SCENARIOS: readonly ScenarioId[] = Object.freeze(['a', 'b', 'c', 'd'] as const);

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
  /** Rounds per worker of the untimed warm-up trial of each driver. @default 50 */
  readonly warmupRounds: number;
  /** Workers contending for the one key in (b). @default 10 */
  readonly handoffWorkers: number;
  /** Acquisitions per worker per trial in (b). @default 50 */
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
  /** CA the TLS client trusts (PEM file). @default spec/fixtures/tls/ca.pem when present */
  readonly tlsCa: string | undefined;
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
  warmupRounds: 50,
  handoffWorkers: 10,
  handoffRounds: 50,
  leases: Object.freeze([1000, 10000]),
  seconds: 10,
  leaseTtlS: 30,
  server: undefined,
  tlsServer: undefined,
  authToken: undefined,
  tlsCa: undefined,
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
  seconds: 1.5,
  leaseTtlS: 1,
  trialTimeoutS: 60,
});

/** Fills `partial` with the defaults (of the quick profile first, when `quick`) and validates it. */
export function resolveBenchOptions(partial: Partial<BenchOptions> = {}, quick = false): BenchOptions {
  const o: BenchOptions = { ...DEFAULT_BENCH_OPTIONS, ...(quick ? QUICK_BENCH_OPTIONS : {}), ...stripUndefined(partial) };
  const positiveInt = (n: number, name: string): void => {
    if (!Number.isInteger(n) || n < 1) throw new BenchUsageError(`${name} must be a positive integer, got ${String(n)}`);
  };
  if (o.scenarios.length === 0 || o.scenarios.some((s) => !SCENARIOS.includes(s))) throw new BenchUsageError(`--scenarios must list some of ${SCENARIOS.join(',')}`);
  o.workers.forEach((w) => positiveInt(w, '--workers'));
  o.leases.forEach((n) => positiveInt(n, '--leases'));
  positiveInt(o.rounds, '--rounds');
  positiveInt(o.trials, '--trials');
  positiveInt(o.handoffWorkers, '--handoff-workers');
  positiveInt(o.handoffRounds, '--handoff-rounds');
  positiveInt(o.leaseTtlS, '--lease');
  if (!Number.isInteger(o.warmupRounds) || o.warmupRounds < 0) throw new BenchUsageError(`--warmup-rounds must be an integer ≥ 0, got ${o.warmupRounds}`);
  if (!(o.seconds > 0 && o.seconds <= 3600)) throw new BenchUsageError(`--seconds must be in (0, 3600], got ${o.seconds}`);
  if (!(o.trialTimeoutS > 0)) throw new BenchUsageError(`trialTimeoutS must be positive, got ${o.trialTimeoutS}`);
  if (o.handoffWorkers < 2 && o.scenarios.includes('b')) throw new BenchUsageError('--handoff-workers must be at least 2 (a hand-off needs a waiter)');
  return { ...o, scenarios: SCENARIOS.filter((s) => o.scenarios.includes(s)) };
}

function stripUndefined<T extends object>(partial: T): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A bad command line: reported with the usage text, exit status 2. */
export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}

/** The parsed command line: options, output mode, or a help request. */
export interface BenchCommandLine {
  readonly help: boolean;
  readonly json: boolean;
  readonly quick: boolean;
  readonly options: Partial<BenchOptions>;
}

/** Usage text of `dflockd-rx bench`. */
export const BENCH_USAGE = `Usage: dflockd-rx bench [flags]

Benchmarks the client against a raw-socket baseline (interleaved trials, medians,
every figure as a ratio to the baseline). Against --servers / DFLOCKD_SERVERS when
set, otherwise an embedded DflockdTestServer (in a child process).

Scenarios:
  a  uncontended acquire+release, W workers x R rounds, one key per worker
  b  contended FIFO hand-off, W workers on one key (release -> next 'acquired')
  c  N leases held at once for T seconds: heap/RSS per lease, renew CPU, renew spread
  d  (a) over TLS

Flags:
  --scenarios a,b,c,d      scenarios to run (default all)
  --workers 10,50          worker counts for (a) and (d)
  --rounds N               rounds per worker per trial for (a)/(d) (default 200)
  --trials N               measured trials per driver, interleaved (default 5)
  --warmup-rounds N        rounds per worker of the untimed warm-up (default 50)
  --handoff-workers N      workers on the one key of (b) (default 10)
  --handoff-rounds N       acquisitions per worker per trial in (b) (default 50)
  --leases 1000,10000      lease counts for (c)
  --seconds T              hold window of (c) in seconds (default 10)
  --lease S                lease length of (c) in seconds (default 30)
  --servers host:port      external server (first entry used; env DFLOCKD_SERVERS)
  --tls-servers host:port  external TLS server for (d) (default: embedded TLS server)
  --tls-ca FILE            CA for TLS (default spec/fixtures/tls/ca.pem)
  --tls-cert FILE          embedded TLS server certificate (default spec/fixtures/tls/server.pem)
  --tls-key FILE           embedded TLS server key (default spec/fixtures/tls/server-key.pem)
  --auth-token TOKEN       auth token (env DFLOCKD_AUTH_TOKEN)
  --in-process             run the embedded server in this process instead of a child
  --server-node-arg ARG    extra Node flag for the embedded server process (repeatable)
  --json                   print the report as JSON on stdout
  --quick                  a tiny smoke run (a few hundred operations per scenario)
  --help                   this text

Run with 'node --expose-gc' for exact heap figures in (c) (the bench enables gc itself otherwise).
`;

const VALUE_FLAGS = new Set([
  'scenarios',
  'workers',
  'rounds',
  'trials',
  'warmup-rounds',
  'handoff-workers',
  'handoff-rounds',
  'leases',
  'seconds',
  'lease',
  'servers',
  'tls-servers',
  'tls-ca',
  'tls-cert',
  'tls-key',
  'auth-token',
  'server-node-arg',
]);
const BOOL_FLAGS = new Set(['json', 'quick', 'in-process', 'help']);

/**
 * Parses `dflockd-rx bench` arguments (`--flag value` or `--flag=value`). Environment:
 * `DFLOCKD_SERVERS` and `DFLOCKD_AUTH_TOKEN` apply when the flags are absent.
 *
 * @throws BenchUsageError naming the bad flag
 */
export function parseBenchArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchCommandLine {
  const values = new Map<string, string>();
  const nodeArgs: string[] = [];
  const bools = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--?([a-z][a-z-]*)(?:=(.*))?$/s.exec(arg);
    if (m === null) throw new BenchUsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const name = m[1]!;
    let value = m[2];
    if (name === 'h' || BOOL_FLAGS.has(name)) {
      if (value !== undefined && value !== 'true' && value !== 'false') throw new BenchUsageError(`--${name} takes no value (or =true/=false)`);
      if (value !== 'false') bools.add(name === 'h' ? 'help' : name);
      continue;
    }
    if (!VALUE_FLAGS.has(name)) throw new BenchUsageError(`unknown flag --${name}`);
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new BenchUsageError(`--${name} needs a value`);
      value = argv[++i]!;
    }
    if (name === 'server-node-arg') nodeArgs.push(value);
    else values.set(name, value);
  }
  const int = (name: string): number | undefined => {
    const raw = values.get(name);
    if (raw === undefined) return undefined;
    if (!/^\d+$/.test(raw)) throw new BenchUsageError(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`);
    return Number(raw);
  };
  const intList = (name: string): number[] | undefined => {
    const raw = values.get(name);
    if (raw === undefined) return undefined;
    return raw.split(',').map((part) => {
      if (!/^\d+$/.test(part.trim())) throw new BenchUsageError(`--${name} must be a comma-separated list of integers, got ${JSON.stringify(raw)}`);
      return Number(part.trim());
    });
  };
  const num = (name: string): number | undefined => {
    const raw = values.get(name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new BenchUsageError(`--${name} must be a number, got ${JSON.stringify(raw)}`);
    return n;
  };
  const server = (raw: string | undefined, flag: string): ServerAddress | undefined => {
    if (raw === undefined || raw.trim() === '') return undefined;
    try {
      return parseServer(raw.split(',')[0]!.trim(), flag);
    } catch (error) {
      throw new BenchUsageError((error as Error).message);
    }
  };
  const scenarios = values.get('scenarios')?.split(',').map((s) => s.trim());
  if (scenarios?.some((s) => !(SCENARIOS as readonly string[]).includes(s))) {
    throw new BenchUsageError(`--scenarios must list some of ${SCENARIOS.join(',')}, got ${JSON.stringify(values.get('scenarios'))}`);
  }
  const options: Partial<BenchOptions> = {
    scenarios: scenarios as ScenarioId[] | undefined,
    workers: intList('workers'),
    rounds: int('rounds'),
    trials: int('trials'),
    warmupRounds: int('warmup-rounds'),
    handoffWorkers: int('handoff-workers'),
    handoffRounds: int('handoff-rounds'),
    leases: intList('leases'),
    seconds: num('seconds'),
    leaseTtlS: int('lease'),
    server: server(values.get('servers') ?? env['DFLOCKD_SERVERS'], '--servers'),
    tlsServer: server(values.get('tls-servers'), '--tls-servers'),
    authToken: values.get('auth-token') ?? (env['DFLOCKD_AUTH_TOKEN'] || undefined),
    tlsCa: values.get('tls-ca'),
    tlsCert: values.get('tls-cert'),
    tlsKey: values.get('tls-key'),
    embedded: bools.has('in-process') ? 'in-process' : undefined,
    serverNodeArgs: nodeArgs.length > 0 ? nodeArgs : undefined,
  };
  return { help: bools.has('help'), json: bools.has('json'), quick: bools.has('quick'), options };
}

/**
 * `dflockd-rx bench`: acquire/release load against your own servers, with a progress bar and a
 * latency summary. It starts no server of its own: point `--servers` at dflockd (or at
 * `dflockd-rx server` started by hand). The development benchmark suite, with its raw-socket
 * baselines, is `npm run bench` in a source checkout (tools/bench).
 *
 * @module
 */

import { DflockdError } from '../errors.js';
import { formatLoad, type LoadPlan, runLoad } from './bench/load.js';
import { TtyProgress } from './bench/progress.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { GLOBAL_HELP, GLOBAL_OPTIONS, UsageError, answerHelpOrVersion, createCliClient, parseCommandLine, parseNumberFlag, reportUsageError, serverNames } from './global-options.js';

const BENCH_OPTIONS = {
  ...GLOBAL_OPTIONS,
  keys: { type: 'string' },
  workers: { type: 'string' },
  seconds: { type: 'string' },
  count: { type: 'string' },
  lease: { type: 'string' },
  timeout: { type: 'string' },
  prefix: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const DEFAULTS = Object.freeze({ keys: 100, workers: 10, seconds: 10, timeout: 10, prefix: 'dflockd-rx-bench-' });

/**
 * `dflockd-rx bench --help`.
 *
 * @example
 * ```ts
 * process.stdout.write(BENCH_HELP);
 * ```
 */
export const BENCH_HELP = [
  'Usage: dflockd-rx bench [--keys N] [--workers N] [--seconds S | --count N] [--lease S] [global flags]',
  '',
  'Puts acquire/release load on --servers: each worker acquires a lock, releases it at once, and',
  'goes on with the next key (PREFIX0 … PREFIX<N-1>, in turn). Prints the throughput and the',
  'p50/p90/p99/max latency of acquiring, of releasing and of the whole cycle; a progress bar is',
  'drawn on stderr when it is a terminal. Starts no server: run dflockd, or `dflockd-rx server`, first.',
  '',
  'Flags:',
  `  --keys N      distinct keys to cycle through (default ${DEFAULTS.keys}; fewer keys than workers = contention;`,
  "                mind the server's --max-locks)",
  `  --workers N   concurrent acquire/release loops (default ${DEFAULTS.workers})`,
  `  --seconds S   run for S seconds (default ${DEFAULTS.seconds}; decimals allowed)`,
  '  --count N     run N cycles in all instead of a time',
  "  --lease S     lease to request, in whole seconds (default: the server's)",
  `  --timeout S   seconds to wait for a held key before counting a timeout (default ${DEFAULTS.timeout})`,
  `  --prefix P    key prefix (default ${DEFAULTS.prefix})`,
  '  --json        print the result as JSON on stdout',
  '',
  GLOBAL_HELP,
  'Exit status:',
  '  0             the run completed (timeouts are counted, not failures)',
  '  64            usage error',
  '  69            cannot connect, or the server refused (the run stops at the first such error)',
  '  77            the server refused the auth token',
  '',
].join('\n');

/**
 * Runs `dflockd-rx bench` with the arguments after `bench`; resolves with the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await benchCommand(['--servers', '127.0.0.1:6388', '--count', '1000']);
 * ```
 */
export async function benchCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let plan: LoadPlan;
  let json: boolean;
  let client;
  try {
    const { values } = parseCommandLine(argv, BENCH_OPTIONS);
    const answered = answerHelpOrVersion(values, BENCH_HELP);
    if (answered !== undefined) return answered;
    if (values.count !== undefined && values.seconds !== undefined) throw new UsageError('--count', 'give --count or --seconds, not both');
    const count = parseNumberFlag('--count', values.count, { integer: true, min: 1, unit: 'cycles' });
    plan = {
      keys: parseNumberFlag('--keys', values.keys, { integer: true, min: 1, unit: 'keys' }) ?? DEFAULTS.keys,
      workers: parseNumberFlag('--workers', values.workers, { integer: true, min: 1, unit: 'workers' }) ?? DEFAULTS.workers,
      prefix: values.prefix ?? DEFAULTS.prefix,
      count,
      seconds: count !== undefined ? undefined : (parseNumberFlag('--seconds', values.seconds, { integer: false, min: 0, minExclusive: true, unit: 'seconds' }) ?? DEFAULTS.seconds),
      leaseTtlS: parseNumberFlag('--lease', values.lease, { integer: true, min: 1, unit: 'seconds' }),
      acquireTimeoutS: parseNumberFlag('--timeout', values.timeout, { integer: true, min: 0, unit: 'seconds' }) ?? DEFAULTS.timeout,
    };
    if (plan.seconds !== undefined && plan.seconds > 86_400) throw new UsageError('--seconds', `at most 86400 (a day), got ${plan.seconds}`);
    if (/[\s\0]/.test(plan.prefix) || plan.prefix.length > 200) throw new UsageError('--prefix', `a key prefix without spaces, at most 200 characters, got ${JSON.stringify(plan.prefix)}`);
    json = values.json === true;
    client = createCliClient(values, env);
  } catch (error) {
    if (error instanceof UsageError) return reportUsageError('bench', error);
    throw error;
  }
  try {
    const result = await runLoad(client, plan, TtyProgress.forStderr());
    const servers = serverNames(client);
    if (json) {
      const { error, ...figures } = result;
      process.stdout.write(`${JSON.stringify({ servers, ...plan, ...figures, error: error === undefined ? null : String((error as Error).message ?? error) })}\n`);
    } else {
      process.stdout.write(formatLoad(result, plan, servers));
    }
    if (result.error === undefined) return EXIT.OK;
    process.stderr.write(`dflockd-rx bench: stopped: ${result.error instanceof Error ? result.error.message : String(result.error)}\n`);
    return result.error instanceof DflockdError ? exitCodeFor(result.error) : EXIT.SOFTWARE;
  } finally {
    await client.close();
  }
}

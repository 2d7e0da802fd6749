/**
 * `dflockd-rx bench`: the benchmark suite as a command. Flags are parsed in
 * `bench/options.ts`, the run is `bench/runner.ts`, the table `bench/report.ts`.
 *
 * @module
 */

import { DflockdError } from '../errors.js';
import { BENCH_HELP, parseBenchArgs } from './bench/options.js';
import { TtyProgress } from './bench/progress.js';
import { formatReport } from './bench/report.js';
import { runBench } from './bench/runner.js';
import { EXIT } from './exit-codes.js';
import { UsageError, answerHelpOrVersion, reportUsageError } from './global-options.js';

export { runBench } from './bench/runner.js';
export type { BenchHooks, BenchRunOptions } from './bench/runner.js';
export type { BenchReport } from './bench/report.js';

/**
 * Runs `dflockd-rx bench [flags]`: prints the summary table (or, with `--json`, the report as
 * JSON) on stdout, with a progress bar on stderr when it is a terminal. Resolves with the exit
 * code: 0 when the run completed, 64 for bad flags, 69 when a server could not be reached or
 * operations failed, 70 for anything unexpected. Missed performance targets are reported in the
 * table, not turned into a failure.
 *
 * @example
 * ```ts
 * process.exitCode = await benchCommand(['--quick', '--scenarios', 'a,b']);
 * ```
 */
export async function benchCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseBenchArgs(argv, env);
  } catch (error) {
    if (error instanceof UsageError) return reportUsageError('bench', error);
    throw error;
  }
  const answered = answerHelpOrVersion(parsed, BENCH_HELP);
  if (answered !== undefined) return answered;
  try {
    const report = await runBench({ ...parsed.options, quick: parsed.quick }, { progress: TtyProgress.forStderr() });
    process.stdout.write(parsed.json ? `${JSON.stringify(report, jsonNumbers, 2)}\n` : formatReport(report));
    return report.failedOperations > 0 ? EXIT.UNAVAILABLE : EXIT.OK;
  } catch (error) {
    if (error instanceof UsageError) return reportUsageError('bench', error);
    process.stderr.write(`dflockd-rx bench: ${error instanceof Error ? error.message : String(error)}\n`);
    const unreachable = error instanceof DflockdError || (error instanceof Error && /connect|did not start|did not finish/.test(error.message));
    return unreachable ? EXIT.UNAVAILABLE : EXIT.SOFTWARE;
  }
}

// JSON has no NaN or Infinity: a ratio that could not be computed is null.
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

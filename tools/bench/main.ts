/**
 * The benchmark harness, `npm run bench [-- flags]`: every scenario (a)–(d) against the client
 * and the raw-socket baselines, with the report and targets of docs/PERFORMANCE.md. A
 * development tool, not published: the package's `dflockd-rx bench` is the small user-facing
 * load tool. Flags are parsed in `options.ts`, the run is `runner.ts`, the table `report.ts`.
 *
 * @module
 */

import { DflockdError } from '../../lib/errors.js';
import { TtyProgress } from '../../lib/cli/bench/progress.js';
import { EXIT } from '../../lib/cli/exit-codes.js';
import { UsageError, answerHelpOrVersion, reportUsageError } from '../../lib/cli/global-options.js';
import { BENCH_HELP, parseBenchArgs } from './options.js';
import { formatReport } from './report.js';
import { runBench } from './runner.js';

/**
 * Runs the harness: prints the summary table (or, with `--json`, the report as JSON) on stdout,
 * with a progress bar on stderr when it is a terminal. Resolves with the exit code: 0 when the
 * run completed, 64 for bad flags, 69 when a server could not be reached or operations failed,
 * 70 for anything unexpected. Missed performance targets are reported in the table, not turned
 * into a failure.
 */
export async function benchHarness(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
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
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    const unreachable = error instanceof DflockdError || (error instanceof Error && /connect|did not start|did not finish/.test(error.message));
    return unreachable ? EXIT.UNAVAILABLE : EXIT.SOFTWARE;
  }
}

// JSON has no NaN or Infinity: a ratio that could not be computed is null.
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

if (require.main === module) {
  benchHarness(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = EXIT.SOFTWARE;
    },
  );
}

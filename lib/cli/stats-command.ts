/**
 * `dflockd-rx stats [--watch [S]] [--count N] [--json]`: what each server holds, as a table or
 * JSON, once or refreshed every S seconds until SIGINT/SIGTERM (or `--count` snapshots).
 *
 * @module
 */

import { type Observable, catchError, exhaustMap, firstValueFrom, forkJoin, fromEvent, map, merge, of, take, takeUntil, throwError, timeout, timer } from 'rxjs';
import type { DflockdClient } from '../client.js';
import { ConnectTimeoutError } from '../errors.js';
import { EXIT, exitHelp, exitCodeFor } from './exit-codes.js';
import { GLOBAL_HELP, GLOBAL_OPTIONS, UsageError, answerHelpOrVersion, createCliClient, parseCommandLine, parseNumberFlag, reportUsageError, serverNames } from './global-options.js';
import { type ServerSnapshot, renderSnapshot, snapshotJson } from './stats-table.js';

const STATS_OPTIONS = {
  ...GLOBAL_OPTIONS,
  watch: { type: 'string' },
  count: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Refresh period of `--watch` given without a value, in seconds. */
const DEFAULT_WATCH_S = 2;

/** Bound on one server's reply, so one stalled server cannot freeze `--watch` for the others. */
const STATS_REPLY_TIMEOUT_MS = 10_000;

// Cursor home, then erase the screen: each refresh redraws in place, as watch(1) does.
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

/**
 * `dflockd-rx stats --help`.
 *
 * @example
 * ```ts
 * process.stdout.write(STATS_HELP);
 * ```
 */
export const STATS_HELP = [
  'Usage: dflockd-rx stats [--watch [S]] [--count N] [--json] [global flags]',
  '',
  "Shows each server's state: held locks (owner connection, lease left, waiters), semaphores",
  '(holders/limit, waiters), idle keys awaiting GC, and the number of connections (this one included).',
  '',
  'Flags:',
  `  --watch [S]   refresh every S seconds (default ${DEFAULT_WATCH_S}; decimals allowed) until SIGINT/SIGTERM;`,
  '                redrawn in place on a terminal, appended with a timestamp line otherwise',
  '  --count N     with --watch: stop after N snapshots',
  '  --json        JSON instead of tables: {"time","servers":[…]}, pretty once, one line per snapshot with --watch',
  '',
  GLOBAL_HELP,
  exitHelp('stats'),
].join('\n');

/**
 * Runs `dflockd-rx stats` with the arguments after `stats`; resolves with the exit code: 0, or
 * for a one-off snapshot 69/77 when a server could not be read.
 *
 * @example
 * ```ts
 * process.exitCode = await statsCommand(['--json']);
 * ```
 */
export async function statsCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let client: DflockdClient;
  let watchS: number | undefined;
  let count: number | undefined;
  let json: boolean;
  try {
    const { values } = parseCommandLine(withWatchValue(argv), STATS_OPTIONS);
    const answered = answerHelpOrVersion(values, STATS_HELP);
    if (answered !== undefined) return answered;
    watchS = parseNumberFlag('--watch', values.watch, { integer: false, min: 0, minExclusive: true, unit: 'seconds' });
    count = parseNumberFlag('--count', values.count, { integer: true, min: 1, unit: 'refreshes' });
    if (count !== undefined && watchS === undefined) throw new UsageError('--count', 'only applies with --watch');
    json = values.json === true;
    client = createCliClient(values, env);
  } catch (error) {
    if (error instanceof UsageError) return reportUsageError('stats', error);
    throw error;
  }
  try {
    if (watchS === undefined) {
      const snapshot = await firstValueFrom(snapshot$(client));
      process.stdout.write(json ? `${JSON.stringify(snapshotJson(snapshot, new Date()), null, 2)}\n` : renderSnapshot(snapshot));
      const failed = snapshot.find((s): s is Extract<ServerSnapshot, { error: Error }> => 'error' in s);
      return failed === undefined ? EXIT.OK : exitCodeFor(failed.error);
    }
    await watch(client, watchS, count, json);
    return EXIT.OK;
  } finally {
    await client.close();
  }
}

/** Every server's stats, read in parallel; a server that fails shows up with its error. */
function snapshot$(client: DflockdClient): Observable<ServerSnapshot[]> {
  return forkJoin(
    serverNames(client).map((server, i) =>
      client.stats(i).pipe(
        take(1),
        timeout({ first: STATS_REPLY_TIMEOUT_MS, with: () => throwError(() => new ConnectTimeoutError(`${server}: no stats reply within ${STATS_REPLY_TIMEOUT_MS / 1000}s`, { server })) }),
        map((stats): ServerSnapshot => ({ server, stats })),
        catchError((error: unknown) => of<ServerSnapshot>({ server, error: error instanceof Error ? error : new Error(String(error)) })),
      ),
    ),
  );
}

/** Prints a snapshot every `periodS` seconds until SIGINT/SIGTERM or `count` snapshots. */
function watch(client: DflockdClient, periodS: number, count: number | undefined, json: boolean): Promise<void> {
  const tty = process.stdout.isTTY === true && !json;
  const stop$ = merge(fromEvent(process, 'SIGINT'), fromEvent(process, 'SIGTERM'));
  return new Promise<void>((resolve, reject) => {
    timer(0, periodS * 1000)
      .pipe(
        // A slow round is not queued behind: the next tick after it ends starts the next one.
        exhaustMap(() => snapshot$(client)),
        count === undefined ? (source) => source : take(count),
        takeUntil(stop$),
      )
      .subscribe({
        next: (snapshot) => {
          const now = new Date();
          if (json) process.stdout.write(`${JSON.stringify(snapshotJson(snapshot, now))}\n`);
          else if (tty) process.stdout.write(`${CLEAR_SCREEN}Every ${periodS}s: dflockd-rx stats    ${now.toLocaleString()}\n\n${renderSnapshot(snapshot)}`);
          else process.stdout.write(`--- ${now.toISOString()} ---\n${renderSnapshot(snapshot)}\n`);
        },
        error: reject,
        complete: resolve,
      });
  });
}

// parseArgs has no "optional value" flags: a bare `--watch` (last, or followed by another flag
// or a non-number) is rewritten to `--watch=<default>` so the flag can be typed as a string.
function withWatchValue(argv: readonly string[]): string[] {
  return argv.map((arg, i) => {
    const next = argv[i + 1];
    return arg === '--watch' && (next === undefined || !/^(\d+(\.\d*)?|\.\d+)$/.test(next)) ? `--watch=${DEFAULT_WATCH_S}` : arg;
  });
}

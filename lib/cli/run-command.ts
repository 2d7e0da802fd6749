/**
 * `dflockd-rx run KEY [flags] -- CMD [ARGS…]`: `flock(1)` across machines. Holds the lock (or a
 * semaphore slot) while CMD runs, forwards signals to CMD, stops CMD if the lease is lost, and
 * exits with CMD's status.
 *
 * @module
 */

import * as os from 'node:os';
import { type Subscription, tap } from 'rxjs';
import { whileHeld } from '../operators.js';
import { AcquireTimeoutError, LeaseLostError } from '../errors.js';
import { LOCK_DEFAULTS, type LockOptions } from '../options.js';
import type { DflockdClient } from '../client.js';
import { ChildCommand, SpawnError } from './child-command.js';
import { EXIT, exitHelp, exitCodeFor } from './exit-codes.js';
import { type ArgToken, type FlagValues, GLOBAL_HELP, GLOBAL_OPTIONS, UsageError, answerHelpOrVersion, createCliClient, parseCommandLine, parseNumberFlag, reportUsageError } from './global-options.js';

const RUN_OPTIONS = {
  ...GLOBAL_OPTIONS,
  timeout: { type: 'string' },
  lease: { type: 'string' },
  limit: { type: 'string' },
  grace: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
} as const;

/** Seconds between SIGTERM and SIGKILL when the lease is lost, unless `--grace` says otherwise. */
const DEFAULT_GRACE_S = 5;

/** The signals `run` passes on to CMD rather than acting on itself. */
const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * `dflockd-rx run --help`.
 *
 * @example
 * ```ts
 * process.stdout.write(RUN_HELP);
 * ```
 */
export const RUN_HELP = [
  'Usage: dflockd-rx run KEY [--timeout S] [--lease S] [--limit N] [--grace S] [global flags] -- CMD [ARGS…]',
  '',
  'Holds the lock KEY — or, with --limit N, one of the N slots of the semaphore KEY — while CMD',
  'runs, like flock(1) across machines; released when CMD exits. CMD inherits stdin, stdout and',
  'stderr, and finds DFLOCKD_LOCK_KEY and DFLOCKD_LOCK_TOKEN in its environment. SIGINT, SIGTERM',
  'and SIGHUP are forwarded to CMD. If the lease is lost while CMD runs, CMD gets SIGTERM, then',
  'SIGKILL after --grace seconds, and run exits with 76 once CMD has exited.',
  '',
  'Flags:',
  `  --timeout S   seconds to wait for the lock; 0 = try once (default ${LOCK_DEFAULTS.acquireTimeoutS})`,
  "  --lease S     lease to request, renewed in the background while CMD runs (default: the server's)",
  '  --limit N     take one of N semaphore slots instead of the exclusive lock',
  `  --grace S     seconds from SIGTERM to SIGKILL when the lease is lost (default ${DEFAULT_GRACE_S}; decimals allowed)`,
  '  -v, --verbose report on stderr when run queues behind a holder, acquires, and releases',
  "Put '--' before CMD so that CMD's own flags are not read as run's.",
  '',
  GLOBAL_HELP,
  exitHelp('run'),
].join('\n');

/** A parsed `run` command line. */
interface RunPlan {
  readonly key: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly limit: number | undefined;
  readonly lockOptions: LockOptions;
  readonly graceMs: number;
  readonly verbose: boolean;
}

/**
 * Runs `dflockd-rx run` with the arguments after `run`; resolves with the exit code (see
 * {@link EXIT} and `--help`).
 *
 * @example
 * ```ts
 * process.exitCode = await runCommand(['deploy', '--timeout', '0', '--', 'make', 'deploy']);
 * ```
 */
export async function runCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let plan: RunPlan;
  let client: DflockdClient;
  try {
    const { values, tokens } = parseCommandLine(argv, RUN_OPTIONS, true);
    const answered = answerHelpOrVersion(values, RUN_HELP);
    if (answered !== undefined) return answered;
    plan = planFrom(values, tokens);
    client = createCliClient(values, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    // Without '--', CMD's own flags are taken for run's: say how to fix that.
    const hint = !argv.includes('--') && /Unknown option/.test(error.message) ? " (put '--' before CMD)" : '';
    return reportUsageError('run', hint ? new UsageError(error.flag, `${error.message}${hint}`) : error);
  }
  try {
    return await holdWhileRunning(client, plan, env);
  } finally {
    await client.close();
  }
}

function planFrom(values: FlagValues<typeof RUN_OPTIONS>, tokens: readonly ArgToken[]): RunPlan {
  const terminator = tokens.find((t) => t.kind === 'option-terminator');
  const positionals = tokens.flatMap((t) => (t.kind === 'positional' ? [t] : []));
  const before = positionals.filter((t) => terminator === undefined || t.index < terminator.index).map((t) => t.value);
  const after = terminator === undefined ? [] : positionals.filter((t) => t.index > terminator.index).map((t) => t.value);
  const [key, ...rest] = before;
  if (key === undefined) throw new UsageError('KEY', 'missing; usage: dflockd-rx run KEY [flags] -- CMD [ARGS…]');
  if (terminator !== undefined && rest.length > 0) throw new UsageError(undefined, `unexpected argument ${JSON.stringify(rest[0])} before '--' (only KEY goes there)`);
  const [command, ...args] = terminator === undefined ? rest : after;
  if (command === undefined) throw new UsageError('CMD', 'missing; usage: dflockd-rx run KEY [flags] -- CMD [ARGS…]');
  const acquireTimeoutS = parseNumberFlag('--timeout', values.timeout, { integer: true, min: 0, unit: 'seconds' });
  const leaseTtlS = parseNumberFlag('--lease', values.lease, { integer: true, min: 1, unit: 'seconds' });
  const limit = parseNumberFlag('--limit', values.limit, { integer: true, min: 1, unit: 'slots' });
  const graceS = parseNumberFlag('--grace', values.grace, { integer: false, min: 0, unit: 'seconds' }) ?? DEFAULT_GRACE_S;
  return {
    key,
    command,
    args,
    limit,
    lockOptions: { ...(acquireTimeoutS === undefined ? {} : { acquireTimeoutS }), ...(leaseTtlS === undefined ? {} : { leaseTtlS }) },
    graceMs: graceS * 1000,
    verbose: values.verbose === true,
  };
}

/**
 * Acquires, runs CMD under `whileHeld` (so a lost lease unsubscribes CMD's Observable, which
 * stops it), and resolves with the exit code once CMD has exited. The lock is released by the
 * Observable's own teardown when CMD's status arrives.
 */
function holdWhileRunning(client: DflockdClient, plan: RunPlan, env: NodeJS.ProcessEnv): Promise<number> {
  const { key, limit, lockOptions } = plan;
  const cmd = new ChildCommand(plan.command, plan.args, { graceMs: plan.graceMs });
  const lease$ = limit === undefined ? client.lock(key, lockOptions) : client.semaphore(key, limit, lockOptions);
  const warn = (text: string): void => void process.stderr.write(`dflockd-rx run: ${text}\n`);

  return new Promise<number>((resolve) => {
    let settled = false;
    let subscription: Subscription | undefined;
    const settle = (status: number): void => {
      if (settled) return;
      settled = true;
      for (const signal of FORWARDED) process.off(signal, onSignal);
      resolve(status);
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      if (cmd.isRunning) return cmd.signal(signal);
      // Not started yet: give up waiting, as a shell would on Ctrl-C.
      subscription?.unsubscribe();
      settle(128 + (os.constants.signals[signal] ?? 0));
    };

    subscription = lease$
      .pipe(
        tap((event) => {
          if (!plan.verbose) return;
          if (event.type === 'queued') warn(`waiting for ${JSON.stringify(key)}: queued behind its holder`);
          else if (event.type === 'acquired') warn(`acquired ${JSON.stringify(key)} (lease ${event.leaseS}s); starting CMD`);
        }),
        whileHeld((lease) => cmd.run({ ...env, DFLOCKD_LOCK_KEY: key, DFLOCKD_LOCK_TOKEN: lease.token })),
      )
      .subscribe({
        next: (status) => {
          if (plan.verbose) warn(`CMD exited with status ${status}; releasing ${JSON.stringify(key)}`);
          settle(status);
        },
        error: (error: unknown) => {
          let status: number;
          if (error instanceof LeaseLostError) {
            const stopping = cmd.isRunning ? `; sent SIGTERM to CMD (SIGKILL in ${plan.graceMs / 1000}s if it is still running)` : '';
            warn(`the lease on ${JSON.stringify(key)} was lost (${error.reason})${stopping}`);
            status = EXIT.LEASE_LOST;
          } else if (error instanceof SpawnError) {
            warn(error.message);
            status = error.status;
          } else if (error instanceof AcquireTimeoutError) {
            const timeoutS = lockOptions.acquireTimeoutS ?? LOCK_DEFAULTS.acquireTimeoutS;
            warn(`${JSON.stringify(key)} is held elsewhere: not acquired within ${timeoutS}s (--timeout)`);
            status = EXIT.ACQUIRE_TIMEOUT;
          } else {
            warn(error instanceof Error ? error.message : String(error));
            status = exitCodeFor(error);
          }
          // whileHeld's teardown has already told a running CMD to stop; run ends after CMD does
          // (at once when it never started), so CMD is never left behind as an orphan.
          void cmd.exited().then(() => settle(status));
        },
      });
    // Registered after subscribing: a synchronous failure (an invalid key) has settled already,
    // and a handler left behind would swallow the user's next Ctrl-C.
    if (!settled) for (const signal of FORWARDED) process.on(signal, onSignal);
  });
}

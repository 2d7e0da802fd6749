/**
 * The CMD of `dflockd-rx run`, as an Observable: subscribing spawns it, its exit status is the
 * one value, and unsubscribing while it runs stops it (SIGTERM, then SIGKILL after a grace
 * period) — so `lease$.pipe(whileHeld(() => cmd.run(env)))` stops CMD when the lease is lost.
 *
 * @module
 */

import * as childProcess from 'node:child_process';
import * as os from 'node:os';
import { Observable } from 'rxjs';
import { EXIT } from './exit-codes.js';

/**
 * CMD could not be started; `status` is the shell's code for it (127 not found, 126 not executable).
 *
 * @example
 * ```ts
 * cmd.run(env).subscribe({ error: (e) => e instanceof SpawnError && process.exit(e.status) });
 * ```
 */
export class SpawnError extends Error {
  override readonly name = 'SpawnError';
  /** The exit status a shell would report. */
  readonly status: number;

  constructor(command: string, cause: NodeJS.ErrnoException) {
    const notFound = cause.code === 'ENOENT';
    super(`${command}: ${notFound ? 'command not found' : `cannot execute (${cause.code ?? cause.message})`}`, { cause });
    this.status = notFound ? EXIT.NOT_FOUND : EXIT.CANNOT_EXECUTE;
  }
}

/**
 * The shell's status for a finished process: its exit code, or 128 + the signal's number.
 *
 * @example
 * ```ts
 * shellStatus(null, 'SIGTERM'); // 143
 * ```
 */
export function shellStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal === null ? 0 : (os.constants.signals[signal] ?? 0));
}

/**
 * One command to run at most once, with its stdio inherited.
 *
 * @example
 * ```ts
 * const cmd = new ChildCommand('make', ['deploy'], { graceMs: 5000 });
 * client.lock('deploy').pipe(whileHeld(() => cmd.run(process.env))).subscribe((status) => …);
 * ```
 */
export class ChildCommand {
  private child: childProcess.ChildProcess | undefined;
  private running = false;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly ended: Promise<number | undefined>;
  private markEnded!: (status: number | undefined) => void;

  constructor(
    private readonly command: string,
    private readonly args: readonly string[],
    private readonly options: { readonly graceMs: number },
  ) {
    this.ended = new Promise((resolve) => (this.markEnded = resolve));
  }

  /** Whether CMD was spawned and has not exited yet. */
  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Spawns CMD on subscribe (once); emits its status and completes when it exits, or errors with
   * {@link SpawnError}. Unsubscribing while it runs sends SIGTERM, then SIGKILL after `graceMs`.
   */
  run(env: NodeJS.ProcessEnv): Observable<number> {
    return new Observable<number>((subscriber) => {
      if (this.child !== undefined) {
        subscriber.error(new Error('ChildCommand.run: CMD was already started'));
        return undefined;
      }
      const child = childProcess.spawn(this.command, [...this.args], { stdio: 'inherit', env });
      this.child = child;
      this.running = child.pid !== undefined;
      child.once('error', (error: NodeJS.ErrnoException) => {
        // After a successful spawn, 'error' only reports a failed kill(); 'exit' still follows.
        if (child.pid !== undefined) return;
        this.markEnded(undefined);
        subscriber.error(new SpawnError(this.command, error));
      });
      child.once('exit', (code, signal) => {
        this.running = false;
        clearTimeout(this.killTimer);
        const status = shellStatus(code, signal);
        this.markEnded(status);
        subscriber.next(status);
        subscriber.complete();
      });
      return () => {
        if (this.running) this.terminate();
      };
    });
  }

  /** Forwards a signal to CMD if it is running. */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child?.kill(signal);
  }

  /** Resolves with CMD's status once it has exited (`undefined` if it never started). */
  exited(): Promise<number | undefined> {
    return this.child === undefined ? Promise.resolve(undefined) : this.ended;
  }

  private terminate(): void {
    this.child?.kill('SIGTERM');
    clearTimeout(this.killTimer);
    // Ref'd on purpose: CMD's handle keeps the process alive anyway, and the escalation must
    // happen even if nothing else is pending. Cleared as soon as CMD exits.
    this.killTimer = setTimeout(() => {
      if (this.running) this.child?.kill('SIGKILL');
    }, this.options.graceMs);
  }
}

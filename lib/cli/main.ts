#!/usr/bin/env node
/**
 * The `dflockd-rx` command: a small dispatcher, `dflockd-rx <command> [args…]`.
 * Each command is an async function from its arguments to an exit code, so a
 * new one is one entry in {@link commands}.
 *
 * @module
 */

import { EXIT, exitHelp } from './exit-codes.js';
import { GLOBAL_HELP } from './global-options.js';
import { packageVersion } from './version.js';

/** One sub-command of `dflockd-rx`. */
interface Command {
  /** One line for `dflockd-rx --help`. */
  readonly summary: string;
  /** Runs the command with the arguments after its name; resolves with the exit code. */
  readonly run: (argv: readonly string[]) => Promise<number>;
}

/**
 * The sub-commands, by name. Each is imported only when chosen, so `run` does not load the
 * test server and `--help` loads no client at all: startup time is part of every `run`.
 */
const commands: Readonly<Record<string, Command>> = {
  run: {
    summary: 'hold a lock (or a semaphore slot) while a command runs: run KEY [flags] -- CMD [ARGS…]',
    run: async (argv) => (await import('./run-command.js')).runCommand(argv),
  },
  stats: {
    summary: "show each server's locks, semaphores, idle keys and connections (--watch to refresh)",
    run: async (argv) => (await import('./stats-command.js')).statsCommand(argv),
  },
  bench: {
    summary: 'acquire/release load with a progress bar and a latency summary',
    run: async (argv) => (await import('./bench-command.js')).benchCommand(argv),
  },
  server: {
    summary: 'run the in-process dflockd-compatible test server (dflockd flags; --help for the list)',
    run: async (argv) => (await import('./server-command.js')).runServerCommand(argv),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const list = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: dflockd-rx <command> [args…]',
    '       dflockd-rx --version',
    '',
    'Commands:',
    ...list,
    '',
    "Run 'dflockd-rx <command> --help' for a command's flags.",
    '',
    GLOBAL_HELP.replace('Global flags:', 'Global flags (run, stats, bench):'),
    exitHelp(),
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT.OK;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    process.stderr.write(`dflockd-rx: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return EXIT.USAGE;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`dflockd-rx: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = EXIT.SOFTWARE;
  },
);

#!/usr/bin/env node
/**
 * The `dflockd-rx` command: a small dispatcher, `dflockd-rx <command> [args…]`.
 * Each command is an async function from its arguments to an exit code, so a
 * new one is one entry in {@link commands}.
 *
 * @module
 */

import { runServerCommand } from './server-command.js';

/** One sub-command of `dflockd-rx`. */
interface Command {
  /** One line for `dflockd-rx --help`. */
  readonly summary: string;
  /** Runs the command with the arguments after its name; resolves with the exit code. */
  readonly run: (argv: readonly string[]) => Promise<number>;
}

/** The sub-commands, by name. */
const commands: Readonly<Record<string, Command>> = {
  server: {
    summary: 'run the in-process dflockd-compatible test server (dflockd flags; --help for the list)',
    run: (argv) => runServerCommand(argv),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const list = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return ['Usage: dflockd-rx <command> [args…]', '', 'Commands:', ...list, '', "Run 'dflockd-rx <command> --help' for a command's flags.", ''].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    process.stderr.write(`dflockd-rx: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`dflockd-rx: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);

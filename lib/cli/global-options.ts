/**
 * What every client-side `dflockd-rx` command shares: the global flags (`--servers`,
 * `--auth-token`, `--tls`, `--tls-ca`, `--tls-insecure`, `--help`, `--version`), their
 * environment variables, the parsing of a command line, and the mapping to {@link ClientOptions}.
 *
 * Arguments are parsed with `node:util` `parseArgs`, not a third-party library: it is built
 * into every Node version this package supports (stable since 20), so the CLI adds no runtime
 * dependency (the package promises none but rxjs); its strict mode refuses unknown flags and
 * stray arguments with a message naming them; and its tokens tell where `--` was, which
 * `run KEY -- CMD …` needs. What it lacks — typed numbers and options with an optional value —
 * is a few lines here and in the commands.
 *
 * @module
 */

import * as fs from 'node:fs';
import type * as tls from 'node:tls';
import * as util from 'node:util';
import { DflockdClient } from '../client.js';
import { InvalidArgumentError } from '../errors.js';
import { type ClientOptions, type ServerSpec, parseServer } from '../options.js';
import { EXIT } from './exit-codes.js';
import { packageVersion } from './version.js';

/**
 * The global flags, in `parseArgs` form; each command spreads them into its own table.
 *
 * @example
 * ```ts
 * util.parseArgs({ args, options: { ...GLOBAL_OPTIONS, json: { type: 'boolean' } } });
 * ```
 */
export const GLOBAL_OPTIONS = {
  servers: { type: 'string' },
  'auth-token': { type: 'string' },
  tls: { type: 'boolean' },
  'tls-ca': { type: 'string' },
  'tls-insecure': { type: 'boolean' },
  'request-timeout': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies FlagTable;

/** The parsed values of {@link GLOBAL_OPTIONS}, as {@link clientOptionsFrom} takes them. */
export type GlobalValues = FlagValues<typeof GLOBAL_OPTIONS>;

/**
 * Help text for the global flags, appended to every command's `--help`.
 *
 * @example
 * ```ts
 * process.stdout.write(`Usage: dflockd-rx stats [flags]\n\n${GLOBAL_HELP}`);
 * ```
 */
export const GLOBAL_HELP = [
  'Global flags:',
  '  --servers host:port,…  dflockd servers, keys sharded over them as every dflockd client does',
  '                         [env DFLOCKD_SERVERS] (default 127.0.0.1:6388)',
  '  --auth-token TOKEN     shared secret sent first on every connection [env DFLOCKD_AUTH_TOKEN]',
  '  --tls                  connect with TLS, verifying the server certificate against the system CAs',
  '  --tls-ca FILE          verify against the CA certificate(s) in this PEM file instead (implies --tls)',
  '  --tls-insecure         do not verify the server certificate (implies --tls; for tests only)',
  '  --request-timeout S    seconds a request may go unanswered before its connection counts as broken',
  '                         [env DFLOCKD_REQUEST_TIMEOUT_S] (default 10)',
  '  -h, --help             show this help',
  '  --version              print the dflockd-rx version',
  'A flag beats its environment variable.',
  '',
].join('\n');

/**
 * A command-line mistake: exits with {@link EXIT.USAGE} and a message naming the flag.
 *
 * @example
 * ```ts
 * throw new UsageError('--timeout', 'expected a whole number of seconds ≥ 0, got "soon"');
 * ```
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** The flag (or argument) at fault, as the user typed it, e.g. `--timeout` or `KEY`. */
  readonly flag: string | undefined;

  constructor(flag: string | undefined, message: string) {
    super(flag === undefined ? message : `${flag}: ${message}`);
    this.flag = flag;
  }
}

/** A `parseArgs` option table. */
export type FlagTable = Readonly<Record<string, { readonly type: 'string' | 'boolean'; readonly short?: string }>>;

/** The values `parseArgs` returns for a {@link FlagTable}: strings, booleans, or absent. */
export type FlagValues<O extends FlagTable> = { readonly [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };

/** One token of the command line, as `parseArgs` reports it. */
export type ArgToken =
  | { readonly kind: 'option'; readonly index: number; readonly name: string; readonly rawName: string; readonly value?: string | undefined }
  | { readonly kind: 'positional'; readonly index: number; readonly value: string }
  | { readonly kind: 'option-terminator'; readonly index: number };

/** What {@link parseCommandLine} returns. */
export interface ParsedCommandLine<O extends FlagTable> {
  readonly values: FlagValues<O>;
  readonly positionals: readonly string[];
  readonly tokens: readonly ArgToken[];
}

/**
 * `parseArgs` in strict mode, its own errors turned into one-line {@link UsageError}s. `tokens`
 * are kept so a command can tell the arguments before `--` from those after. A negative number
 * after a flag that takes a value (`--timeout -1`) is taken as its value, so that the flag's own
 * check can say what is wrong with it (parseArgs would call it "ambiguous").
 *
 * @example
 * ```ts
 * const { values, positionals } = parseCommandLine(argv, { ...GLOBAL_OPTIONS, json: { type: 'boolean' } });
 * ```
 */
export function parseCommandLine<O extends FlagTable>(argv: readonly string[], options: O, allowPositionals = false): ParsedCommandLine<O> {
  const args = joinNegativeValues(argv, options);
  try {
    const parsed = util.parseArgs({ args, options, strict: true, allowPositionals, tokens: true });
    return { values: parsed.values as FlagValues<O>, positionals: parsed.positionals, tokens: parsed.tokens as ArgToken[] };
  } catch (error) {
    throw usageErrorFrom(error, args, options);
  }
}

// `--flag -1` → `--flag=-1` for flags that take a value; nothing after `--` is touched.
function joinNegativeValues(argv: readonly string[], options: FlagTable): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name !== undefined && Object.hasOwn(options, name) && options[name]!.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

// parseArgs' messages are several sentences of advice about positionals; one line that names the
// flag is what a usage error needs.
function usageErrorFrom(error: unknown, args: readonly string[], options: FlagTable): UsageError {
  // Not `instanceof Error`: parseArgs' errors may come from another realm (a test's VM context).
  const raw = (error as { message?: unknown } | null)?.message;
  const message = typeof raw === 'string' ? raw : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const option = /Option '(-\w, )?(--[\w-]+)/.exec(message)?.[2];
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option !== undefined) {
    const name = option.slice(2);
    if (Object.hasOwn(options, name) && options[name]!.type === 'boolean') return new UsageError(option, 'takes no value (it is a switch)');
    const next = args[args.indexOf(option) + 1];
    if (next !== undefined) return new UsageError(option, `needs a value, got the flag ${JSON.stringify(next)} (write ${option}=${next} if that is the value)`);
    return new UsageError(option, 'needs a value');
  }
  return new UsageError(undefined, message.split(/\.\s/)[0]!.replace(/\.$/, ''));
}

/** How {@link parseNumberFlag} reads a flag's value. */
export interface NumberRule {
  /** Whole numbers only. */
  readonly integer: boolean;
  readonly min: number;
  /** The value must be greater than `min`, not equal to it. */
  readonly minExclusive?: boolean;
  /** What the number counts, for the message: `seconds`, `slots`, `workers`… */
  readonly unit?: string;
}

/**
 * A strict decimal, for seconds and counts: `parseArgs` hands every value over as a string.
 * The message says what was given and what is wanted, in the flag's own unit.
 *
 * @throws UsageError naming `flag` when `raw` is not a number in range.
 * @example
 * ```ts
 * parseNumberFlag('--timeout', '10', { integer: true, min: 0, unit: 'seconds' }); // 10
 * parseNumberFlag('--timeout', '-1', { integer: true, min: 0, unit: 'seconds' }); // throws '--timeout: expected a whole number of seconds ≥ 0, got "-1"'
 * ```
 */
export function parseNumberFlag(flag: string, raw: string | undefined, rule: NumberRule): number | undefined {
  if (raw === undefined) return undefined;
  const pattern = rule.integer ? /^[+-]?\d+$/ : /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
  const value = Number(raw);
  const low = rule.minExclusive ? value <= rule.min : value < rule.min;
  if (!pattern.test(raw.trim()) || !Number.isFinite(value) || low || value > 2 ** 31) {
    const what = `${rule.integer ? 'a whole number' : 'a number'}${rule.unit === undefined ? '' : ` of ${rule.unit}`}`;
    throw new UsageError(flag, `expected ${what} ${rule.minExclusive ? '>' : '≥'} ${rule.min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/**
 * Builds {@link ClientOptions} from the global flags and the environment: a flag beats its
 * environment variable; `--tls-ca` and `--tls-insecure` imply `--tls`.
 *
 * @throws UsageError naming the flag (or variable) with a bad value.
 * @example
 * ```ts
 * const options = clientOptionsFrom({ servers: '127.0.0.1:6388' }, process.env);
 * ```
 */
export function clientOptionsFrom(values: GlobalValues, env: NodeJS.ProcessEnv): ClientOptions {
  const options: { -readonly [K in keyof ClientOptions]: ClientOptions[K] } = {};
  const servers = values.servers ?? nonEmpty(env['DFLOCKD_SERVERS']);
  if (servers !== undefined) options.servers = parseServerList(servers, values.servers !== undefined ? '--servers' : 'DFLOCKD_SERVERS');
  const token = values['auth-token'] ?? nonEmpty(env['DFLOCKD_AUTH_TOKEN']);
  if (token !== undefined) options.authToken = token;
  if (values.tls || values['tls-ca'] !== undefined || values['tls-insecure']) {
    const tlsOptions: tls.ConnectionOptions = {};
    if (values['tls-ca'] !== undefined) {
      try {
        tlsOptions.ca = fs.readFileSync(values['tls-ca']);
      } catch (error) {
        throw new UsageError('--tls-ca', `cannot read ${JSON.stringify(values['tls-ca'])}: ${(error as Error).message}`);
      }
    }
    if (values['tls-insecure']) tlsOptions.rejectUnauthorized = false;
    options.tls = tlsOptions;
  }
  const requestTimeout = values['request-timeout'] ?? nonEmpty(env['DFLOCKD_REQUEST_TIMEOUT_S']);
  if (requestTimeout !== undefined) {
    const flag = values['request-timeout'] !== undefined ? '--request-timeout' : 'DFLOCKD_REQUEST_TIMEOUT_S';
    const seconds = Number(requestTimeout);
    if (requestTimeout.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) throw new UsageError(flag, `expected a number of seconds > 0, got ${JSON.stringify(requestTimeout)}`);
    options.requestTimeoutS = seconds;
  }
  return options;
}

/**
 * A {@link DflockdClient} for the global flags; option errors come back as {@link UsageError}s
 * that name the flag rather than the option.
 *
 * @example
 * ```ts
 * const client = createCliClient(values, process.env);
 * ```
 */
export function createCliClient(values: GlobalValues, env: NodeJS.ProcessEnv): DflockdClient {
  const options = clientOptionsFrom(values, env);
  try {
    return new DflockdClient(options);
  } catch (error) {
    if (error instanceof InvalidArgumentError) {
      const flag = error.argument === 'authToken' ? (values['auth-token'] !== undefined ? '--auth-token' : 'DFLOCKD_AUTH_TOKEN') : undefined;
      throw new UsageError(flag, error.message.replace(/^authToken: /, ''));
    }
    throw error;
  }
}

/**
 * `host:port` of each of the client's servers, in index order (IPv6 hosts in brackets).
 *
 * @example
 * ```ts
 * serverNames(new DflockdClient({ servers: ['127.0.0.1:6388'] })); // ['127.0.0.1:6388']
 * ```
 */
export function serverNames(client: DflockdClient): string[] {
  return client.options.servers.map((s) => (s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`));
}

function parseServerList(list: string, flag: string): ServerSpec[] {
  const entries = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (entries.length === 0) throw new UsageError(flag, 'expected host:port[,host:port…], got an empty list');
  return entries.map((entry) => {
    try {
      const { host, port } = parseServer(entry);
      return { host, port };
    } catch (error) {
      throw new UsageError(flag, `expected host:port[,host:port…]: ${(error as Error).message.replace(/^server: /, '')}`);
    }
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Prints a usage error and a pointer to `--help` on stderr; returns {@link EXIT.USAGE}.
 *
 * @example
 * ```ts
 * if (error instanceof UsageError) return reportUsageError('stats', error);
 * ```
 */
export function reportUsageError(command: string, error: UsageError): number {
  process.stderr.write(`dflockd-rx ${command}: ${error.message}\nRun 'dflockd-rx ${command} --help' for usage.\n`);
  return EXIT.USAGE;
}

/**
 * Answers `--help` (printing `help`) or `--version` on stdout. Returns the exit code when it did,
 * `undefined` when the command should go on.
 *
 * @example
 * ```ts
 * const answered = answerHelpOrVersion(values, STATS_HELP);
 * if (answered !== undefined) return answered;
 * ```
 */
export function answerHelpOrVersion(flags: { readonly help?: boolean | undefined; readonly version?: boolean | undefined }, help: string): number | undefined {
  if (flags.help) {
    process.stdout.write(help);
    return EXIT.OK;
  }
  if (flags.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT.OK;
  }
  return undefined;
}

/**
 * `dflockd-rx server`: runs a {@link DflockdTestServer} with dflockd's own
 * flags, parsed the way dflockd (Go's `flag` package) parses them, with
 * dflockd's environment variables and precedence.
 *
 * @module
 */

import * as fs from 'node:fs';
import { trimSpace } from '../testing/server/go-text.js';
import { EXIT } from './exit-codes.js';
import { DflockdTestServer, type DflockdTestServerOptions } from '../testing/server/test-server.js';
import { parseOriginList } from '../testing/server/options.js';

/** A flag in Go's `flag` package sense. `seconds` also accepts decimals (a test-server extension). */
export interface FlagSpec {
  readonly name: string;
  readonly kind: 'int' | 'seconds' | 'string' | 'bool';
  readonly usage: string;
  readonly default: number | string | boolean;
  /** The dflockd environment variable that applies when the flag is not given. */
  readonly env?: string;
  /** The server option it sets; none for flags handled by the command itself. */
  readonly option?: keyof DflockdTestServerOptions;
}

/** dflockd v1.10's flags (`--auth-token` and its file variant are resolved specially, see §1.5). */
export const SERVER_FLAGS: readonly FlagSpec[] = [
  { name: 'host', kind: 'string', default: '127.0.0.1', env: 'DFLOCKD_HOST', option: 'host', usage: 'Bind address' },
  { name: 'port', kind: 'int', default: 6388, env: 'DFLOCKD_PORT', option: 'port', usage: 'Bind port (0 = any free port)' },
  { name: 'default-lease-ttl', kind: 'seconds', default: 33, env: 'DFLOCKD_DEFAULT_LEASE_TTL_S', option: 'defaultLeaseTtl', usage: 'Default lock lease duration (seconds)' },
  { name: 'lease-sweep-interval', kind: 'seconds', default: 1, env: 'DFLOCKD_LEASE_SWEEP_INTERVAL_S', option: 'leaseSweepInterval', usage: 'Lease expiry check interval (seconds)' },
  { name: 'gc-interval', kind: 'seconds', default: 5, env: 'DFLOCKD_GC_LOOP_SLEEP', option: 'gcInterval', usage: 'Lock state GC interval (seconds)' },
  { name: 'gc-max-idle', kind: 'seconds', default: 60, env: 'DFLOCKD_GC_MAX_UNUSED_TIME', option: 'gcMaxIdle', usage: 'Idle seconds before pruning lock state' },
  { name: 'max-locks', kind: 'int', default: 1024, env: 'DFLOCKD_MAX_LOCKS', option: 'maxLocks', usage: 'Maximum number of unique lock keys' },
  { name: 'max-connections', kind: 'int', default: 0, env: 'DFLOCKD_MAX_CONNECTIONS', option: 'maxConnections', usage: 'Maximum concurrent connections (0 = unlimited)' },
  { name: 'max-waiters', kind: 'int', default: 0, env: 'DFLOCKD_MAX_WAITERS', option: 'maxWaiters', usage: 'Maximum waiters per lock/semaphore key (0 = unlimited)' },
  { name: 'read-timeout', kind: 'seconds', default: 23, env: 'DFLOCKD_READ_TIMEOUT_S', option: 'readTimeout', usage: 'Client read timeout (seconds)' },
  { name: 'write-timeout', kind: 'seconds', default: 5, env: 'DFLOCKD_WRITE_TIMEOUT_S', option: 'writeTimeout', usage: 'Client write timeout (seconds, 0 = none)' },
  { name: 'shutdown-timeout', kind: 'seconds', default: 30, env: 'DFLOCKD_SHUTDOWN_TIMEOUT_S', option: 'shutdownTimeout', usage: 'Graceful shutdown drain timeout (seconds, 0 = wait forever)' },
  { name: 'auto-release-on-disconnect', kind: 'bool', default: true, env: 'DFLOCKD_AUTO_RELEASE_ON_DISCONNECT', option: 'autoReleaseOnDisconnect', usage: 'Release locks when a client disconnects' },
  { name: 'tls-cert', kind: 'string', default: '', env: 'DFLOCKD_TLS_CERT', option: 'tlsCert', usage: 'Path to TLS certificate PEM file' },
  { name: 'tls-key', kind: 'string', default: '', env: 'DFLOCKD_TLS_KEY', option: 'tlsKey', usage: 'Path to TLS private key PEM file' },
  { name: 'http-port', kind: 'int', default: '', env: 'DFLOCKD_HTTP_PORT', option: 'httpPort', usage: 'Port of the HTTP API (0 = any free port; unset = no HTTP listener)' },
  { name: 'http-host', kind: 'string', default: '', env: 'DFLOCKD_HTTP_HOST', option: 'httpHost', usage: 'Bind address of the HTTP API (default: --host)' },
  { name: 'http-cors-allowed-origins', kind: 'string', default: '', env: 'DFLOCKD_HTTP_CORS_ALLOWED_ORIGINS', option: 'httpCorsAllowedOrigins', usage: 'Origins allowed to call the HTTP API from a browser: a,b or * (unset = CORS off)' },
  { name: 'http-session-idle-timeout', kind: 'seconds', default: 20, env: 'DFLOCKD_HTTP_SESSION_IDLE_S', option: 'httpSessionIdleTimeout', usage: 'HTTP session idle timeout (seconds; reaped after twice this)' },
  { name: 'auth-token', kind: 'string', default: '', usage: 'Shared secret token for client authentication' },
  { name: 'auth-token-file', kind: 'string', default: '', usage: 'Path to file containing the auth token (whitespace trimmed)' },
  { name: 'debug', kind: 'bool', default: false, usage: 'Accepted for compatibility with dflockd; no effect' },
  // Not a dflockd flag: which dflockd release line the test server reproduces.
  { name: 'compat', kind: 'string', default: '2.1', option: 'compat', usage: 'dflockd release line to reproduce: 2.1 or 1.10 (v1.10.0 exactly)' },
];

/** A command-line error, reported as dflockd words it (`configuration error: …`), with exit status 64. */
export class FlagError extends Error {
  override readonly name = 'FlagError';
}

/** Result of {@link parseGoFlags}: the flags given explicitly, or a help request. */
export type ParsedFlags = { readonly help: true } | { readonly help: false; readonly values: ReadonlyMap<string, number | string | boolean> };

const GO_BOOL: Record<string, boolean> = { 1: true, t: true, T: true, TRUE: true, true: true, True: true, 0: false, f: false, F: false, FALSE: false, false: false, False: false };
const INT64_MAX = (1n << 63n) - 1n;
const DECIMAL_FRACTION = /^[+-]?(\d+\.\d*|\.\d+)$/;

/**
 * Go `strconv.ParseInt(s, 0, 64)`, as `flag.Int` uses: sign, `0x`/`0o`/`0b`
 * or leading-`0` octal prefixes, underscores between digits. Throws 'parse error' / 'value out of range'.
 */
export function parseGoInt(s: string): number {
  const m = /^([+-]?)(0[xX]|0[oO]|0[bB]|0(?=.)|)(.*)$/s.exec(s)!;
  const [, sign, prefix, digits] = m as unknown as [string, string, string, string];
  const base = prefix === '' ? 10 : /[xX]/.test(prefix) ? 16 : /[bB]/.test(prefix) ? 2 : 8;
  const valid = { 2: /^[01]$/, 8: /^[0-7]$/, 10: /^[0-9]$/, 16: /^[0-9a-fA-F]$/ }[base]!;
  if (digits === '' && prefix.length !== 1) throw new FlagError('parse error');
  let seen = prefix === '' ? '^' : '0';
  for (const ch of digits) {
    if (ch === '_') {
      if (seen !== '0') throw new FlagError('parse error');
      seen = '_';
    } else if (valid.test(ch)) seen = '0';
    else throw new FlagError('parse error');
  }
  if (seen === '_') throw new FlagError('parse error');
  const clean = digits.replace(/_/g, '');
  const magnitude = clean === '' ? 0n : BigInt((base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '') + clean);
  if (magnitude > INT64_MAX + (sign === '-' ? 1n : 0n)) throw new FlagError('value out of range');
  const value = sign === '-' ? -magnitude : magnitude;
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw new FlagError('value out of range');
  return Number(value);
}

function convert(spec: FlagSpec, raw: string): number | string | boolean {
  switch (spec.kind) {
    case 'string':
      return raw;
    case 'bool': {
      const b = GO_BOOL[raw];
      if (b === undefined) throw new FlagError(`invalid boolean value ${JSON.stringify(raw)} for -${spec.name}: parse error`);
      return b;
    }
    default:
      if (spec.kind === 'seconds' && DECIMAL_FRACTION.test(raw)) return Number(raw);
      try {
        return parseGoInt(raw);
      } catch (err) {
        throw new FlagError(`invalid value ${JSON.stringify(raw)} for flag -${spec.name}: ${(err as Error).message}`);
      }
  }
}

/**
 * Parses arguments like Go's `flag.FlagSet.Parse`: `-flag` or `--flag`,
 * `--flag value` or `--flag=value`, booleans as bare `--flag` or
 * `--flag=false` (never `--flag false`), `--` ends the flags, the last
 * occurrence wins. Unlike Go, a stray positional argument is an error rather
 * than silently ignored, because it is almost always `--bool-flag false`.
 */
export function parseGoFlags(argv: readonly string[], specs: readonly FlagSpec[] = SERVER_FLAGS): ParsedFlags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values = new Map<string, number | string | boolean>();
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.length < 2 || arg[0] !== '-') break;
    if (arg === '--') {
      i++;
      break;
    }
    let name = arg.slice(arg[1] === '-' ? 2 : 1);
    if (name === '' || name[0] === '-' || name[0] === '=') throw new FlagError(`bad flag syntax: ${arg}`);
    let value: string | undefined;
    const eq = name.indexOf('=', 1);
    if (eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const spec = byName.get(name);
    if (!spec) {
      if (name === 'help' || name === 'h') return { help: true };
      throw new FlagError(`flag provided but not defined: -${name}`);
    }
    if (spec.kind !== 'bool' && value === undefined) {
      if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: -${name}`);
      value = argv[++i]!;
    }
    values.set(name, convert(spec, value ?? 'true'));
  }
  if (i < argv.length) {
    throw new FlagError(`unexpected argument ${JSON.stringify(argv[i])} (boolean flags take the form --flag=false)`);
  }
  return { help: false, values };
}

// dflockd's envOr* helpers: a malformed value silently falls back to the default.
function fromEnv(spec: FlagSpec, raw: string): number | string | boolean | undefined {
  if (spec.kind === 'string') return raw;
  if (spec.kind === 'bool') {
    const v = raw.toLowerCase();
    return v === '1' || v === 'yes' || v === 'true' ? true : v === '0' || v === 'no' || v === 'false' ? false : undefined;
  }
  return /^[+-]?\d+$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : undefined;
}

/**
 * Builds the server options: explicit flag > environment variable > default;
 * the auth token follows dflockd v1.10's own order (`DFLOCKD_AUTH_TOKEN` >
 * `--auth-token` > `--auth-token-file` > `DFLOCKD_AUTH_TOKEN_FILE`).
 */
export function resolveServerConfig(values: ReadonlyMap<string, number | string | boolean>, env: NodeJS.ProcessEnv): DflockdTestServerOptions {
  const options: Record<string, unknown> = {};
  for (const spec of SERVER_FLAGS) {
    if (!spec.option) continue;
    let value = values.get(spec.name);
    const envRaw = spec.env ? env[spec.env] : undefined;
    if (value === undefined && envRaw) value = fromEnv(spec, envRaw);
    value ??= spec.default;
    // An unset optional path stays unset; an explicit empty host still reaches validation.
    if (value === '' && spec.default === '') continue;
    options[spec.option] = value;
  }
  const tokenFile = (values.get('auth-token-file') as string | undefined) || env.DFLOCKD_AUTH_TOKEN_FILE;
  let token = env.DFLOCKD_AUTH_TOKEN || (values.get('auth-token') as string | undefined);
  if (!token && tokenFile) {
    try {
      token = Buffer.from(trimSpace(fs.readFileSync(tokenFile, 'latin1')), 'latin1').toString('utf8');
    } catch (err) {
      throw new FlagError(`reading auth token file ${JSON.stringify(tokenFile)}: ${(err as Error).message}`);
    }
  }
  if (token) options.authToken = token;
  const origins = options.httpCorsAllowedOrigins;
  if (typeof origins === 'string') options.httpCorsAllowedOrigins = parseOriginList(origins);
  return options as DflockdTestServerOptions;
}

/** Usage text for `dflockd-rx server --help`. */
export function serverUsage(): string {
  const lines = SERVER_FLAGS.map((s) => {
    const arg = s.kind === 'bool' ? '' : s.kind === 'string' ? ' string' : s.kind === 'seconds' ? ' seconds' : ' int';
    const dflt = s.default === '' || s.default === false ? '' : ` (default ${String(s.default)})`;
    const env = s.env ? ` [env ${s.env}]` : s.name === 'auth-token' ? ' [env DFLOCKD_AUTH_TOKEN, which wins]' : s.name === 'auth-token-file' ? ' [env DFLOCKD_AUTH_TOKEN_FILE]' : '';
    return `  --${s.name}${arg}\n        ${s.usage}${dflt}${env}`;
  });
  return [
    'Usage: dflockd-rx server [flags]',
    '',
    'Runs the in-process dflockd-compatible test server (--compat 2.1 or 1.10) until SIGINT/SIGTERM',
    '(graceful stop: blocked requests get `error`, connections close within',
    '--shutdown-timeout; a second signal closes everything at once).',
    'Flags may be written -flag or --flag, with a value as --flag value or --flag=value;',
    'booleans as --flag or --flag=false. Time flags also accept decimals (e.g. 0.5).',
    'An explicit flag beats its environment variable, which beats the default.',
    '',
    ...lines,
    '',
  ].join('\n');
}

/** Where the command writes and which environment and process it uses (injectable for tests). */
export interface ServerCommandIo {
  readonly env: NodeJS.ProcessEnv;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Registers the stop signals; returns a function that unregisters them. */
  readonly onSignal: (handler: (signal: string) => void) => () => void;
}

const processIo: ServerCommandIo = {
  env: process.env,
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  onSignal: (handler) => {
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    return () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    };
  },
};

// Validation messages name options; the CLI user typed flags.
function flagWording(message: string): string {
  return message
    .replace(/^DflockdTestServer: /, '')
    .replace(/\boptions? (?=\w)/g, '')
    // Option names become flags; a word already written as a flag (`-port`, `-http-port`) stays as it is.
    .replace(/(?<![-\w])\w+\b/g, (word) => {
      const spec = SERVER_FLAGS.find((s) => s.option === word);
      return spec ? `--${spec.name}` : word;
    });
}

/**
 * Runs `dflockd-rx server <flags>` until SIGINT/SIGTERM; resolves with the
 * exit code (0 after a clean stop or for --help, 64 for a bad flag or option
 * value, 1 when the server cannot listen).
 */
export async function runServerCommand(argv: readonly string[], io: ServerCommandIo = processIo): Promise<number> {
  let server: DflockdTestServer;
  try {
    const parsed = parseGoFlags(argv);
    if (parsed.help) {
      io.out(serverUsage());
      return 0;
    }
    server = new DflockdTestServer(resolveServerConfig(parsed.values, io.env));
  } catch (err) {
    // A usage error, as for every dflockd-rx command (dflockd itself exits 1 here): EX_USAGE.
    io.err(`configuration error: ${flagWording((err as Error).message)}\nRun 'dflockd-rx server --help' for usage.\n`);
    return EXIT.USAGE;
  }
  try {
    await server.start();
  } catch (err) {
    io.err(`server error: ${(err as Error).message}\n`);
    return 1;
  }
  const http = server.httpUrl === undefined ? '' : `, HTTP API on ${server.httpUrl}`;
  io.out(`dflockd-rx test server listening on ${server.address}${server.tls ? ' (TLS)' : ''}${http}\n`);
  await new Promise<void>((resolve) => {
    let signals = 0;
    const unregister = io.onSignal((signal) => {
      signals++;
      if (signals === 1) {
        const limit = server.options.shutdownTimeout > 0 ? `up to ${server.options.shutdownTimeout}s` : 'no time limit';
        io.err(`${signal}: shutting down gracefully (${limit}; signal again to close now)\n`);
        void server.stop({ graceful: true }).then(() => {
          unregister();
          resolve();
        });
      } else {
        void server.stop();
      }
    });
  });
  return 0;
}

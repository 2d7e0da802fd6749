// Usage errors of every command: exit 64 (EX_USAGE) with a one-line reason that names the flag,
// says what was given and what is wanted, in the flag's own unit.
import { UsageError, parseCommandLine, parseNumberFlag } from '../../lib/cli/global-options.js';
import { cli, useCliProcesses } from '../helpers/cli.js';

useCliProcesses();

describe('spawned: exit 64 and one line of reason', () => {
  test.each([
    [['run', 'k', '--timeout', '-1', '--', 'true'], 'dflockd-rx run: --timeout: expected a whole number of seconds ≥ 0, got "-1"'],
    [['run', 'k', '--timeout=-1', '--', 'true'], 'dflockd-rx run: --timeout: expected a whole number of seconds ≥ 0, got "-1"'],
    [['run', 'k', '--lease', '2.5', '--', 'true'], 'dflockd-rx run: --lease: expected a whole number of seconds ≥ 1, got "2.5"'],
    [['run', 'k', '--limit', '2.5', '--', 'true'], 'dflockd-rx run: --limit: expected a whole number of slots ≥ 1, got "2.5"'],
    [['run', 'k', '--grace', '-0.5', '--', 'true'], 'dflockd-rx run: --grace: expected a number of seconds ≥ 0, got "-0.5"'],
    [['run', 'k', '--servers', '--timeout', '1', '--', 'true'], 'dflockd-rx run: --servers: needs a value, got the flag "--timeout" (write --servers=--timeout if that is the value)'],
    [['run', 'k', '--verbose=yes', '--', 'true'], 'dflockd-rx run: --verbose: takes no value (it is a switch)'],
    [['run', 'k', '--', 'true', '--timeout'], undefined],
    [['stats', '--watch', '0'], 'dflockd-rx stats: --watch: expected a number of seconds > 0, got "0"'],
    [['stats', '--bogus'], "dflockd-rx stats: Unknown option '--bogus'"],
    [['bench', '--workers', '-3'], 'dflockd-rx bench: --workers: expected a whole number of workers ≥ 1, got "-3"'],
    [['server', '--bogus'], 'configuration error: flag provided but not defined: -bogus'],
    [['server', '--port', 'x'], 'configuration error: invalid value "x" for flag -port: parse error'],
  ])('%j', async (args, firstLine) => {
    const run = cli(args as string[], { DFLOCKD_SERVERS: '127.0.0.1:1' });
    const { code } = await run.exit;
    if (firstLine === undefined) {
      // After '--' everything is CMD's: not a usage error (the server at port 1 is unreachable: 69).
      expect(code).toBe(69);
      return;
    }
    expect(code).toBe(64);
    const lines = run.out.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(firstLine);
    // At most a pointer to --help follows the reason.
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^Run 'dflockd-rx \w+ --help' for usage\.$/)]);
  });
});

describe('parseCommandLine', () => {
  const table = { timeout: { type: 'string' }, json: { type: 'boolean' } } as const;

  test('a negative number after a value flag is its value, for the flag to check', () => {
    expect(parseCommandLine(['--timeout', '-1'], table).values.timeout).toBe('-1');
    expect(parseCommandLine(['--timeout', '-.5'], table).values.timeout).toBe('-.5');
    // Not after '--', and not for a switch.
    expect(parseCommandLine(['--json', '--', '--timeout', '-1'], table, true).positionals).toEqual(['--timeout', '-1']);
  });

  test('errors are one line naming the flag', () => {
    const message = (args: string[]): string => {
      try {
        parseCommandLine(args, table);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      throw new Error('no error');
    };
    expect(message(['--timeout'])).toBe('--timeout: needs a value');
    expect(message(['--timeout', '--json'])).toBe('--timeout: needs a value, got the flag "--json" (write --timeout=--json if that is the value)');
    expect(message(['--json=1'])).toBe('--json: takes no value (it is a switch)');
    expect(message(['--nope'])).toBe("Unknown option '--nope'");
    expect(message(['stray'])).toMatch(/^Unexpected argument 'stray'$/);
    for (const args of [['--timeout'], ['--nope'], ['stray']]) expect(message(args)).not.toContain('\n');
  });
});

describe('parseNumberFlag', () => {
  test('says what was given and what is wanted, in the unit', () => {
    expect(parseNumberFlag('--timeout', '10', { integer: true, min: 0, unit: 'seconds' })).toBe(10);
    expect(parseNumberFlag('--timeout', undefined, { integer: true, min: 0, unit: 'seconds' })).toBeUndefined();
    expect(() => parseNumberFlag('--timeout', 'soon', { integer: true, min: 0, unit: 'seconds' })).toThrow('--timeout: expected a whole number of seconds ≥ 0, got "soon"');
    expect(() => parseNumberFlag('--limit', '2.5', { integer: true, min: 1, unit: 'slots' })).toThrow('--limit: expected a whole number of slots ≥ 1, got "2.5"');
    expect(() => parseNumberFlag('--watch', '0', { integer: false, min: 0, minExclusive: true })).toThrow('--watch: expected a number > 0, got "0"');
    expect(() => parseNumberFlag('--count', '1e3', { integer: true, min: 1 })).toThrow('--count: expected a whole number ≥ 1, got "1e3"');
  });
});

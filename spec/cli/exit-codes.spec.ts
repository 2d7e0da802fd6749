import {
  AcquireTimeoutError,
  AuthError,
  ConnectTimeoutError,
  ConnectionError,
  DrainingError,
  InvalidArgumentError,
  LeaseLostError,
  LimitMismatchError,
} from '../../lib/index.js';
import { EXIT, exitCodeFor } from '../../lib/cli/exit-codes.js';
import { cli, useCliProcesses } from '../helpers/cli.js';
import { SilentServer, startSilentServer } from '../helpers/silent-server.js';

// sysexits: 75 is "try again later" (busy, or the server shutting down), 69 "nobody answers".

test.each<readonly [string, unknown, number]>([
  ['the key stayed busy', new AcquireTimeoutError('busy'), 75],
  ['the server is draining', new DrainingError('draining'), 75],
  ['nobody answers (the reply watchdog)', new ConnectionError('no reply within requestTimeoutS=10'), 69],
  ['connect, TLS or auth stalled', new ConnectTimeoutError('stalled'), 69],
  ['a refusal (limit mismatch)', new LimitMismatchError('mismatch'), 69],
  ['the token was refused', new AuthError('refused'), 77],
  ['the lease was lost', new LeaseLostError('lost', { reason: 'deadline' }), 76],
  ['bad input', new InvalidArgumentError('key', 'must not be empty'), 64],
  ['a bug', new Error('boom'), 70],
])('%s → %i', (_label, error, code) => {
  expect(exitCodeFor(error)).toBe(code);
});

test('EXIT names both temporary failures 75', () => {
  expect(EXIT.ACQUIRE_TIMEOUT).toBe(75);
  expect(EXIT.DRAINING).toBe(75);
});

describe('dflockd-rx run against a server that accepts and never answers', () => {
  useCliProcesses();
  let silent: SilentServer;
  beforeAll(async () => {
    silent = await startSilentServer();
  });
  afterAll(() => silent.close());

  test('exits 69 ("cannot connect"), never 75 ("held elsewhere"), and CMD never runs', async () => {
    const { port } = silent;
    const run = cli(['run', 'silent-key', '--timeout', '0', '--servers', `127.0.0.1:${port}`, '--request-timeout', '0.5', '--', process.execPath, '-e', "console.log('CMD ran')"]);
    expect(await run.exit).toEqual({ code: 69, signal: null });
    expect(run.out.stdout).not.toContain('CMD ran');
  }, 20_000);

  test.each([['--request-timeout', '0'], ['--request-timeout', 'soon']])('%s %s is a usage error (64)', async (flag, value) => {
    const run = cli(['run', 'k', flag, value, '--', process.execPath, '-e', '0']);
    expect(await run.exit).toEqual({ code: 64, signal: null });
    expect(run.out.stderr).toContain('--request-timeout');
  });
});

// `dflockd-rx server --http-*`: the HTTP flags, parsed like the other flags,
// and the HTTP address printed next to the TCP one (in process, injected io).
import { parseGoFlags, resolveServerConfig, runServerCommand, serverUsage, type ServerCommandIo } from '../../../../lib/cli/server-command';
import { waitFor } from '../raw-client';
import { call } from './http-fixture';

const config = (...argv: string[]) => {
  const parsed = parseGoFlags(argv);
  if (parsed.help) throw new Error('unexpected help');
  return resolveServerConfig(parsed.values, {});
};

test.each<[string[], Record<string, unknown>]>([
  [[], { httpSessionIdleTimeout: 20 }],
  [['--http-port', '6389'], { httpPort: 6389 }],
  [['--http-port=0'], { httpPort: 0 }],
  [['--http-host', '::1'], { httpHost: '::1' }],
  [['--http-cors-allowed-origins', 'https://a.example,http://localhost:4200'], { httpCorsAllowedOrigins: ['https://a.example', 'http://localhost:4200'] }],
  [['--http-cors-allowed-origins=*'], { httpCorsAllowedOrigins: '*' }],
  [['--http-cors-allowed-origins', ' https://a.example , '], { httpCorsAllowedOrigins: ['https://a.example'] }],
  [['--http-session-idle-timeout', '0.25'], { httpSessionIdleTimeout: 0.25 }],
])('%j', (argv, expected) => {
  const options = config(...argv);
  expect(options).toEqual(expect.objectContaining(expected));
  if (!argv.some((a) => a.startsWith('--http-port'))) expect(options.httpPort).toBeUndefined();
  if (!argv.some((a) => a.startsWith('--http-cors'))) expect(options.httpCorsAllowedOrigins).toBeUndefined();
  // Unset, the HTTP host follows --host (resolved by the server options).
  if (!argv.some((a) => a.startsWith('--http-host'))) expect(options.httpHost).toBeUndefined();
});

test('dflockd 2.x environment variables apply when the flag is absent; a flag wins', () => {
  const env = {
    DFLOCKD_HTTP_PORT: '6389',
    DFLOCKD_HTTP_HOST: '127.0.0.2',
    DFLOCKD_HTTP_CORS_ALLOWED_ORIGINS: 'https://a.example,https://b.example',
    DFLOCKD_HTTP_SESSION_IDLE_S: '7',
  };
  const parsed = parseGoFlags(['--http-port', '0']);
  if (parsed.help) throw new Error('unexpected help');
  expect(resolveServerConfig(parsed.values, env)).toEqual(
    expect.objectContaining({ httpPort: 0, httpHost: '127.0.0.2', httpCorsAllowedOrigins: ['https://a.example', 'https://b.example'], httpSessionIdleTimeout: 7 }),
  );
});

test('the usage lists the HTTP flags', () => {
  for (const flag of ['--http-port int', '--http-host string', '--http-cors-allowed-origins string', '--http-session-idle-timeout seconds']) {
    expect(serverUsage()).toContain(flag);
  }
});

function io(): ServerCommandIo & { out: jest.Mock; err: jest.Mock; stop(): void } {
  let handler: ((signal: string) => void) | undefined;
  return {
    env: {},
    out: jest.fn(),
    err: jest.fn(),
    onSignal: (h) => {
      handler = h;
      return () => (handler = undefined);
    },
    stop: () => handler?.('SIGTERM'),
  };
}

test('bad HTTP flags are configuration errors naming the flag', async () => {
  for (const [argv, message] of [
    [['--http-port', '-1'], /--http-port must be >= 0/],
    [['--http-port', 'x'], /invalid value "x" for flag -http-port/],
    [['--http-session-idle-timeout', '0'], /--http-session-idle-timeout must be > 0/],
    [['--compat', '1.10', '--http-port', '0'], /--http-port needs --compat '2\.1' \(dflockd 1\.10 has no HTTP API\)/],
  ] as const) {
    const cli = io();
    expect(await runServerCommand([...argv], cli)).toBe(64);
    expect(cli.err.mock.calls.join('')).toMatch(message);
  }
});

test('the HTTP address is printed next to the TCP one, and the API answers until the signal', async () => {
  const cli = io();
  const done = runServerCommand(['--port', '0', '--http-port', '0', '--http-session-idle-timeout', '5'], cli);
  await waitFor(() => cli.out.mock.calls.length > 0, 5000, 'the start-up line');
  const line = String(cli.out.mock.calls[0]![0]);
  const m = /^dflockd-rx test server listening on 127\.0\.0\.1:(\d+), HTTP API on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(line);
  expect(m).not.toBeNull();
  const session = await call(m![2]!, 'POST', '/v1/sessions');
  expect(session.json.idle_timeout_s).toBe(5);
  cli.stop();
  expect(await done).toBe(0);
});

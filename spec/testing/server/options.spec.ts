import { resolveServerOptions, SERVER_DEFAULTS } from '../../../lib/testing/server/options';
import { DflockdTestServer, type DflockdTestServerOptions } from '../../../lib/testing/server/test-server';

describe('DflockdTestServer options', () => {
  test('defaults are dflockd\'s defaults, in compat 2.1', () => {
    expect(resolveServerOptions()).toEqual({
      port: 6388,
      host: '127.0.0.1',
      defaultLeaseTtl: 33,
      readTimeout: 23,
      writeTimeout: 5,
      maxLocks: 1024,
      maxWaiters: 0,
      maxConnections: 0,
      authToken: undefined,
      tlsCert: undefined,
      tlsKey: undefined,
      leaseSweepInterval: 1,
      gcInterval: 5,
      gcMaxIdle: 60,
      shutdownTimeout: 30,
      autoReleaseOnDisconnect: true,
      compat: '2.1',
      staleTokenOnWait: undefined,
      httpPort: undefined,
      httpHost: '127.0.0.1',
      httpCorsAllowedOrigins: [],
      httpSessionIdleTimeout: 20,
    });
    expect(Object.isFrozen(SERVER_DEFAULTS)).toBe(true);
  });

  test('fractional seconds are accepted for tests', () => {
    const o = resolveServerOptions({ readTimeout: 0.25, leaseSweepInterval: 0.05, defaultLeaseTtl: 1.5, shutdownTimeout: 0 });
    expect(o).toMatchObject({ readTimeout: 0.25, leaseSweepInterval: 0.05, defaultLeaseTtl: 1.5, shutdownTimeout: 0 });
  });

  test.each<[DflockdTestServerOptions, RegExp]>([
    [{ port: -1 }, /option port must be >= 0/],
    [{ port: 65536 }, /option port must be an integer <= 65535/],
    [{ port: 1.5 }, /option port must be an integer/],
    [{ host: '' }, /option host/],
    [{ defaultLeaseTtl: 0 }, /option defaultLeaseTtl must be > 0/],
    [{ readTimeout: 0 }, /option readTimeout must be > 0/],
    [{ readTimeout: Number.NaN }, /option readTimeout must be a finite number/],
    [{ writeTimeout: -1 }, /option writeTimeout must be >= 0/],
    [{ maxLocks: 0 }, /option maxLocks must be > 0/],
    [{ maxWaiters: -1 }, /option maxWaiters must be >= 0/],
    [{ maxConnections: 2.5 }, /option maxConnections must be an integer/],
    [{ leaseSweepInterval: 0 }, /option leaseSweepInterval must be > 0/],
    [{ gcInterval: -1 }, /option gcInterval must be > 0/],
    [{ gcMaxIdle: 0 }, /option gcMaxIdle must be > 0/],
    [{ shutdownTimeout: -1 }, /option shutdownTimeout must be >= 0/],
    [{ defaultLeaseTtl: 1e10 }, /option defaultLeaseTtl must be a finite number of seconds/],
    [{ tlsCert: 'cert.pem' }, /tlsCert and tlsKey must be provided together/],
    [{ authToken: 'a\nb' }, /option authToken must not contain CR or LF/],
    [{ autoReleaseOnDisconnect: 'no' as unknown as boolean }, /option autoReleaseOnDisconnect must be a boolean/],
    [{ compat: '2.0' as '2.1' }, /option compat must be one of '2\.1', '1\.10' \(got 2\.0\)/],
    [{ compat: 2.1 as unknown as '2.1' }, /option compat must be one of/],
    [{ staleTokenOnWait: 1 as unknown as boolean }, /option staleTokenOnWait must be a boolean/],
    [{ httpCorsAllowedOrigins: ['https://a.example', ''] }, /option httpCorsAllowedOrigins must be '\*', an array of origins/],
    [{ httpCorsAllowedOrigins: 'https://a.example https://b.example' }, /option httpCorsAllowedOrigins must be/],
    [{ httpCorsAllowedOrigins: 42 as unknown as string }, /option httpCorsAllowedOrigins must be/],
  ])('%j is refused with a message naming the option', (options, message) => {
    expect(() => new DflockdTestServer(options)).toThrow(message);
  });

  test('compat and staleTokenOnWait are kept as given', () => {
    expect(resolveServerOptions({ compat: '1.10', staleTokenOnWait: false })).toMatchObject({ compat: '1.10', staleTokenOnWait: false });
    expect(new DflockdTestServer({ compat: '1.10' }).compat).toBe('1.10');
    expect(new DflockdTestServer().compat).toBe('2.1');
  });

  test.each<[DflockdTestServerOptions['httpCorsAllowedOrigins'], readonly string[] | '*']>([
    [['https://a.example', 'http://localhost:4200'], ['https://a.example', 'http://localhost:4200']],
    ['*', '*'],
    [' * ', '*'],
    // One string, as dflockd's --http-cors-allowed-origins takes it.
    ['https://a.example, http://localhost:4200,', ['https://a.example', 'http://localhost:4200']],
    ['http://localhost:4200', ['http://localhost:4200']],
    ['', []],
    [undefined, []],
  ])('httpCorsAllowedOrigins %j resolves to %j', (given, resolved) => {
    expect(resolveServerOptions({ httpCorsAllowedOrigins: given }).httpCorsAllowedOrigins).toEqual(resolved);
  });

  test('an empty authToken means no auth', () => {
    expect(resolveServerOptions({ authToken: '' }).authToken).toBeUndefined();
  });
});

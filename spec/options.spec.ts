import {
  CLIENT_DEFAULTS,
  ClientOptions,
  LOCK_DEFAULTS,
  ServerSpec,
  parseServer,
  resolveClientOptions,
  resolveLockOptions,
  resolveServers,
} from '../lib/options';
import { SchedulerLike, asyncScheduler } from 'rxjs';
import { stableHashShard } from '../lib/sharding';
import { refusal } from './helpers/refusal';

describe('parseServer', () => {
  it.each<readonly [string, ServerSpec, { host: string; port: number }]>([
    ['[host, port]', ['db1.internal', 6388], { host: 'db1.internal', port: 6388 }],
    ["'host:port'", 'localhost:7000', { host: 'localhost', port: 7000 }],
    ["'ip:port'", '10.0.0.1:6388', { host: '10.0.0.1', port: 6388 }],
    ["'[::1]:6388'", '[::1]:6388', { host: '::1', port: 6388 }],
    ["'[fe80::1%eth0]:1'", '[fe80::1%eth0]:1', { host: 'fe80::1%eth0', port: 1 }],
    ['{host, port}', { host: '127.0.0.1', port: 65535 }, { host: '127.0.0.1', port: 65535 }],
    ['surrounding whitespace in a string', '  h:1\n', { host: 'h', port: 1 }],
  ])('accepts %s', (_label, spec, expected) => {
    expect(parseServer(spec)).toEqual(expected);
  });

  it.each<readonly [string, unknown]>([
    ['no port', 'localhost'],
    ['empty port', 'localhost:'],
    ['empty host', ':6388'],
    ['port 0', 'h:0'],
    ['port 65536', 'h:65536'],
    ['non-numeric port', 'h:abc'],
    ['negative port', 'h:-1'],
    ['fractional port', 'h:63.5'],
    ['unbracketed IPv6', '::1:6388'],
    ['space in host', 'a b:1'],
    ['empty string', ''],
    ['tuple with empty host', ['', 1]],
    ['tuple with port 0', ['h', 0]],
    ['tuple with fractional port', ['h', 1.5]],
    ['tuple with string port', ['h', '6388']],
    ['tuple with NaN port', ['h', NaN]],
    ['tuple with port 70000', ['h', 70_000]],
    ['tuple with a non-string host', [1234, 1]],
    ['tuple with host containing a TAB', ['a\tb', 1]],
    ['object without port', { host: 'h' }],
    ['object with Infinity port', { host: 'h', port: Infinity }],
    ['object with a spaced host', { host: 'a b', port: 1 }],
    ['null', null],
    ['a number', 6388],
    ['undefined', undefined],
  ])('refuses %s', (_label, spec) => {
    const err = refusal(() => parseServer(spec as ServerSpec, 'servers[0]'));
    expect(err.argument).toBe('servers[0]');
    expect(err.message.startsWith('servers[0]:')).toBe(true);
  });

  it("names the argument 'server' by default", () => {
    expect(refusal(() => parseServer('nope')).argument).toBe('server');
  });
});

describe('resolveServers', () => {
  it('defaults to 127.0.0.1:6388', () => {
    expect(resolveServers(undefined)).toBe(CLIENT_DEFAULTS.servers);
    expect(resolveServers(undefined)).toEqual([{ host: '127.0.0.1', port: 6388 }]);
  });

  it('normalises a mix of forms, in order, frozen', () => {
    const servers = resolveServers([['a', 1], 'b:2', '[::1]:3', { host: 'd', port: 4 }]);
    expect(servers).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
      { host: '::1', port: 3 },
      { host: 'd', port: 4 },
    ]);
    expect(Object.isFrozen(servers)).toBe(true);
    for (const s of servers) expect(Object.isFrozen(s)).toBe(true);
  });

  it('refuses an empty array, naming servers', () => {
    expect(refusal(() => resolveServers([])).argument).toBe('servers');
  });

  it('refuses a non-array, naming servers', () => {
    expect(refusal(() => resolveServers('h:1' as unknown as ServerSpec[])).argument).toBe('servers');
  });

  it.each<readonly [ServerSpec[], string]>([
    [['bad'], 'servers[0]'],
    [['a:1', 'bad'], 'servers[1]'],
    [['a:1', ['b', 2], { host: 'c', port: 0 }], 'servers[2]'],
  ])('names the bad entry: %j → %s', (servers, argument) => {
    expect(refusal(() => resolveServers(servers)).argument).toBe(argument);
  });
});

describe('CLIENT_DEFAULTS / LOCK_DEFAULTS', () => {
  it('are frozen, all the way down', () => {
    expect(Object.isFrozen(CLIENT_DEFAULTS)).toBe(true);
    expect(Object.isFrozen(CLIENT_DEFAULTS.servers)).toBe(true);
    expect(Object.isFrozen(CLIENT_DEFAULTS.servers[0])).toBe(true);
    expect(Object.isFrozen(LOCK_DEFAULTS)).toBe(true);
    expect(() => {
      (CLIENT_DEFAULTS as { renewRatio: number }).renewRatio = 0.9;
    }).toThrow(TypeError);
    expect(CLIENT_DEFAULTS.renewRatio).toBe(0.5);
  });

  it('hold the documented values', () => {
    expect(CLIENT_DEFAULTS).toEqual({
      servers: [{ host: '127.0.0.1', port: 6388 }],
      connectTimeoutS: 10,
      renewRatio: 0.5,
      serverIdleTimeoutS: 23,
      requestTimeoutS: 10,
      dedicatedConnections: false,
      fencing: false,
      maxSharedConnections: 16,
    });
    expect(LOCK_DEFAULTS).toEqual({ acquireTimeoutS: 10 });
  });
});

describe('resolveClientOptions', () => {
  it('fills every default, frozen', () => {
    for (const resolved of [resolveClientOptions(), resolveClientOptions({})]) {
      expect(Object.isFrozen(resolved)).toBe(true);
      expect(resolved.servers).toEqual([{ host: '127.0.0.1', port: 6388 }]);
      expect(resolved.shardingStrategy).toBe(stableHashShard);
      expect(resolved.tls).toBeUndefined();
      expect(resolved.authToken).toBeUndefined();
      expect(resolved.connectTimeoutS).toBe(10);
      expect(resolved.renewRatio).toBe(0.5);
      expect(resolved.serverIdleTimeoutS).toBe(23);
      expect(resolved.maxSharedConnections).toBe(16);
      expect(resolved.requestTimeoutS).toBe(10);
      expect(resolved.dedicatedConnections).toBe(false);
      expect(resolved.fencing).toBe(false);
      const a = resolved.scheduler.now();
      const b = resolved.scheduler.now();
      expect(typeof a).toBe('number');
      expect(b).toBeGreaterThanOrEqual(a);
    }
  });

  it('keeps given values', () => {
    const scheduler = { now: () => 42, schedule: asyncScheduler.schedule.bind(asyncScheduler) } as SchedulerLike;
    const strategy = (): number => 0;
    const tls = { rejectUnauthorized: true };
    const resolved = resolveClientOptions({
      servers: ['a:1', ['b', 2]],
      shardingStrategy: strategy,
      tls,
      authToken: 's3cret',
      connectTimeoutS: 2.5,
      renewRatio: 0.3,
      serverIdleTimeoutS: 5,
      maxSharedConnections: 1,
      requestTimeoutS: 0.5,
      dedicatedConnections: true,
      fencing: true,
      scheduler,
    });
    expect(resolved).toEqual({
      servers: [{ host: 'a', port: 1 }, { host: 'b', port: 2 }],
      shardingStrategy: strategy,
      tls,
      authToken: 's3cret',
      connectTimeoutS: 2.5,
      renewRatio: 0.3,
      serverIdleTimeoutS: 5,
      maxSharedConnections: 1,
      requestTimeoutS: 0.5,
      dedicatedConnections: true,
      fencing: true,
      scheduler,
    });
    expect(resolved.scheduler.now()).toBe(42);
  });

  it.each<readonly [string, unknown, string]>([
    ['renewRatio 0', { renewRatio: 0 }, 'renewRatio'],
    ['renewRatio 1', { renewRatio: 1 }, 'renewRatio'],
    ['renewRatio -0.5', { renewRatio: -0.5 }, 'renewRatio'],
    ['renewRatio 1.5', { renewRatio: 1.5 }, 'renewRatio'],
    ['renewRatio NaN', { renewRatio: NaN }, 'renewRatio'],
    ['connectTimeoutS 0', { connectTimeoutS: 0 }, 'connectTimeoutS'],
    ['connectTimeoutS -1', { connectTimeoutS: -1 }, 'connectTimeoutS'],
    ['connectTimeoutS Infinity', { connectTimeoutS: Infinity }, 'connectTimeoutS'],
    ['serverIdleTimeoutS 0', { serverIdleTimeoutS: 0 }, 'serverIdleTimeoutS'],
    ['serverIdleTimeoutS NaN', { serverIdleTimeoutS: NaN }, 'serverIdleTimeoutS'],
    ['serverIdleTimeoutS 0.1 (below a second)', { serverIdleTimeoutS: 0.1 }, 'serverIdleTimeoutS'],
    ['requestTimeoutS 0', { requestTimeoutS: 0 }, 'requestTimeoutS'],
    ['requestTimeoutS -1', { requestTimeoutS: -1 }, 'requestTimeoutS'],
    ['requestTimeoutS NaN', { requestTimeoutS: NaN }, 'requestTimeoutS'],
    ['dedicatedConnections "yes"', { dedicatedConnections: 'yes' }, 'dedicatedConnections'],
    ['fencing 1', { fencing: 1 }, 'fencing'],
    ['scheduler without schedule()', { scheduler: { now: () => 0 } }, 'scheduler'],
    ['scheduler null', { scheduler: null }, 'scheduler'],
    ['maxSharedConnections 0', { maxSharedConnections: 0 }, 'maxSharedConnections'],
    ['maxSharedConnections 1.5', { maxSharedConnections: 1.5 }, 'maxSharedConnections'],
    ['authToken empty', { authToken: '' }, 'authToken'],
    ['authToken with a space', { authToken: 'a b' }, 'authToken'],
    ['authToken with LF', { authToken: 'ab\n' }, 'authToken'],
    ['authToken over 256 bytes', { authToken: 'x'.repeat(257) }, 'authToken'],
    ['shardingStrategy not a function', { shardingStrategy: 'crc' }, 'shardingStrategy'],
    ['tls null', { tls: null }, 'tls'],
    ['tls a string', { tls: 'yes' }, 'tls'],
    ['servers empty', { servers: [] }, 'servers'],
    ['second server bad', { servers: ['a:1', 'b:0'] }, 'servers[1]'],
    ['options null', null, 'options'],
    ['options a string', 'a:1', 'options'],
  ])('refuses %s', (_label, options, argument) => {
    expect(refusal(() => resolveClientOptions(options as ClientOptions)).argument).toBe(argument);
  });

  it('accepts renewRatio close to the bounds', () => {
    expect(resolveClientOptions({ renewRatio: 0.01 }).renewRatio).toBe(0.01);
    expect(resolveClientOptions({ renewRatio: 0.99 }).renewRatio).toBe(0.99);
  });
});

describe('resolveLockOptions', () => {
  const client = { renewRatio: 0.3 };

  it('defaults: acquireTimeoutS 10, server lease, the client renewRatio', () => {
    expect(resolveLockOptions(undefined, client)).toEqual({ acquireTimeoutS: 10, leaseTtlS: undefined, renewRatio: 0.3 });
    expect(resolveLockOptions({}, client)).toEqual({ acquireTimeoutS: 10, leaseTtlS: undefined, renewRatio: 0.3 });
  });

  it('keeps given values, overriding the client renewRatio', () => {
    expect(resolveLockOptions({ acquireTimeoutS: 0, leaseTtlS: 1, renewRatio: 0.7 }, client)).toEqual({ acquireTimeoutS: 0, leaseTtlS: 1, renewRatio: 0.7 });
    expect(resolveLockOptions({ acquireTimeoutS: 30, leaseTtlS: 60 }, client)).toEqual({ acquireTimeoutS: 30, leaseTtlS: 60, renewRatio: 0.3 });
  });

  it.each<readonly [string, unknown, string]>([
    ['acquireTimeoutS -1', { acquireTimeoutS: -1 }, 'acquireTimeoutS'],
    ['acquireTimeoutS 1.5', { acquireTimeoutS: 1.5 }, 'acquireTimeoutS'],
    ['acquireTimeoutS NaN', { acquireTimeoutS: NaN }, 'acquireTimeoutS'],
    ['acquireTimeoutS Infinity', { acquireTimeoutS: Infinity }, 'acquireTimeoutS'],
    ['leaseTtlS 0', { leaseTtlS: 0 }, 'leaseTtlS'],
    ['leaseTtlS -5', { leaseTtlS: -5 }, 'leaseTtlS'],
    ['leaseTtlS 2.5', { leaseTtlS: 2.5 }, 'leaseTtlS'],
    ['leaseTtlS NaN', { leaseTtlS: NaN }, 'leaseTtlS'],
    ['renewRatio 0', { renewRatio: 0 }, 'renewRatio'],
    ['renewRatio 1', { renewRatio: 1 }, 'renewRatio'],
    ['options a number', 5, 'options'],
  ])('refuses %s', (_label, options, argument) => {
    expect(refusal(() => resolveLockOptions(options as never, client)).argument).toBe(argument);
  });
});

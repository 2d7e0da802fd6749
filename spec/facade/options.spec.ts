import { DflockdClient, DflockdError, DistributedLock, DistributedSemaphore, InvalidArgumentError, LeaseLostError } from '../../lib/index.js';
import type { DistributedLockOptions, LostEvent } from '../../lib/index.js';

// The constructor's contract, at runtime and (checked by `tsc`, which type-checks spec/) in types.
// Nothing here connects: a client connects on its first subscription only.
describe('DistributedLockOptions', () => {
  const client = new DflockdClient({ servers: [['127.0.0.1', 6388]] });
  afterAll(() => client.close());

  test('a shared client takes lock options; a private one takes every option', () => {
    expect(new DistributedLock('o-shared', { client, acquireTimeoutS: 3, leaseTtlS: 9, renewRatio: 0.3 }).key).toBe('o-shared');
    expect(new DistributedLock('o-own', { servers: ['127.0.0.1:6388'], authToken: 't', acquireTimeoutS: 3, renewRatio: 0.3 }).key).toBe('o-own');
  });

  test.each([
    ['servers', { servers: ['127.0.0.1:6388'] }],
    ['authToken', { authToken: 'secret' }],
    ['connectTimeoutS', { connectTimeoutS: 1 }],
    ['serverIdleTimeoutS', { serverIdleTimeoutS: 5 }],
  ])('a client option (%s) next to `client` is refused, naming it', (name, extra) => {
    const options = { client, ...extra } as unknown as DistributedLockOptions;
    expect(() => new DistributedLock('o-bad', options)).toThrow(InvalidArgumentError);
    expect(() => new DistributedLock('o-bad', options)).toThrow(new RegExp(`^${name}: has no effect next to \`client\``));
  });

  test('a `client` that is not a DflockdClient is refused', () => {
    expect(() => new DistributedLock('o-fake', { client: {} as DflockdClient })).toThrow(/^client: must be a DflockdClient/);
  });

  test('type errors: a client option next to client; a third constructor argument', () => {
    // @ts-expect-error — `servers` is meaningless next to a shared client.
    const bad: DistributedLockOptions = { client, servers: ['127.0.0.1:6388'] };
    expect(bad).toBeDefined();
    // @ts-expect-error — the lock constructor takes (key, options) only; a limit makes a semaphore.
    expect(() => new DistributedLock('o-limit', {}, 3)).not.toThrow();
  });

  test('DistributedSemaphore(key, limit, options) exposes its limit and checks it', () => {
    expect(new DistributedSemaphore('o-sem', 3, { client }).limit).toBe(3);
    expect(() => new DistributedSemaphore('o-sem', 0, { client })).toThrow(/^limit/);
  });
});

describe('codes and reasons are unions of their known values, kept open', () => {
  test('an exhaustive switch over the known lost reasons compiles; an unknown one still fits', () => {
    const describe = (reason: LostEvent['reason']): string => {
      switch (reason) {
        case 'expired':
        case 'deadline':
          return 'time';
        case 'disconnected':
          return 'network';
        case 'server-shutdown':
          return 'server';
        default:
          return `other: ${reason}`;
      }
    };
    expect(describe('deadline')).toBe('time');
    expect(describe('from-a-newer-version')).toBe('other: from-a-newer-version');
    expect(new LeaseLostError('m', { reason: 'expired' }).reason).toBe('expired');
  });

  test('DflockdError.code: known codes autocomplete and compare; an unknown status keeps its string', () => {
    const known: DflockdError['code'][] = ['timeout', 'error_auth', 'CONNECTION_CLOSED', 'LEASE_LOST', 'INVALID_ARGUMENT'];
    expect(known).toHaveLength(5);
    expect(new DflockdError('error_from_the_future', 'm').code).toBe('error_from_the_future');
  });
});

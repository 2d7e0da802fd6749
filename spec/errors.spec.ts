import {
  AcquireTimeoutError,
  AlreadyEnqueuedError,
  AuthError,
  ConnectTimeoutError,
  ConnectionError,
  DflockdError,
  DrainingError,
  ErrorContext,
  InvalidArgumentError,
  LeaseExpiredError,
  LeaseLostError,
  LimitMismatchError,
  MaxLocksError,
  MaxWaitersError,
  NotEnqueuedError,
  NotLeaderError,
  ProtocolError,
  ServerError,
  describeContext,
  errorFromStatus,
} from '../lib/errors';

type AnyErrorClass = abstract new (...args: never[]) => DflockdError;

const STATUS_TABLE: ReadonlyArray<readonly [string, AnyErrorClass, string]> = [
  ['timeout', AcquireTimeoutError, 'AcquireTimeoutError'],
  ['error_auth', AuthError, 'AuthError'],
  ['error_max_locks', MaxLocksError, 'MaxLocksError'],
  ['error_max_waiters', MaxWaitersError, 'MaxWaitersError'],
  ['error_limit_mismatch', LimitMismatchError, 'LimitMismatchError'],
  ['error_not_enqueued', NotEnqueuedError, 'NotEnqueuedError'],
  ['error_already_enqueued', AlreadyEnqueuedError, 'AlreadyEnqueuedError'],
  ['error_lease_expired', LeaseExpiredError, 'LeaseExpiredError'],
  ['error_draining', DrainingError, 'DrainingError'],
  ['error_not_leader', NotLeaderError, 'NotLeaderError'],
  ['error', ServerError, 'ServerError'],
];

describe('errorFromStatus', () => {
  const ctx: ErrorContext = { key: 'orders', command: 'w', server: '10.0.0.5:6388' };

  it.each(STATUS_TABLE)('%s → %p', (status, cls, name) => {
    const err = errorFromStatus(status, undefined, ctx);
    expect(err).toBeInstanceOf(cls);
    expect(err).toBeInstanceOf(DflockdError);
    expect(err).toBeInstanceOf(Error);
    expect(err.constructor).toBe(cls);
    expect(err.code).toBe(status);
    expect(err.name).toBe(name);
    expect(err.key).toBe('orders');
    expect(err.command).toBe('w');
    expect(err.server).toBe('10.0.0.5:6388');
    // The message names the key, the command and the status, and says what to change.
    expect(err.message).toContain('"orders"');
    expect(err.message).toContain('(w on 10.0.0.5:6388)');
    expect(err.message).toContain(`"${status}"`);
    expect(err.message.length).toBeGreaterThan(`key "orders" (w on 10.0.0.5:6388): server replied "${status}"`.length);
    expect(String(err)).toContain(name);
  });

  it('each status maps to a distinct class', () => {
    const classes = STATUS_TABLE.map(([status]) => errorFromStatus(status, undefined).constructor);
    expect(new Set(classes).size).toBe(STATUS_TABLE.length);
  });

  it('passes the cause through', () => {
    const cause = new Error('socket hang up');
    const err = errorFromStatus('error', undefined, { key: 'k', command: 'r', cause });
    expect(err.cause).toBe(cause);
  });

  it('has no cause when none is given', () => {
    const err = errorFromStatus('timeout', undefined, { key: 'k', command: 'l' });
    expect('cause' in err).toBe(false);
  });

  it('works without a context', () => {
    const err = errorFromStatus('error_max_locks', undefined);
    expect(err).toBeInstanceOf(MaxLocksError);
    expect(err.key).toBeUndefined();
    expect(err.command).toBeUndefined();
    expect(err.server).toBeUndefined();
    expect(err.message).toContain('error_max_locks');
  });

  it('error_not_leader keeps the leader address from the detail', () => {
    const err = errorFromStatus('error_not_leader', '10.0.0.1:6388', { key: 'k', command: 'l' });
    expect(err).toBeInstanceOf(NotLeaderError);
    expect((err as NotLeaderError).leader).toBe('10.0.0.1:6388');
    expect(err.key).toBe('k');
    expect(err.command).toBe('l');
    expect(err.message).toContain('10.0.0.1:6388');
    expect((errorFromStatus('error_not_leader', undefined) as NotLeaderError).leader).toBeUndefined();
  });

  it('an unknown error_* status becomes the base class with the status as code', () => {
    const err = errorFromStatus('error_foo', 'some detail', { key: 'k', command: 'sl' });
    expect(err.constructor).toBe(DflockdError);
    expect(err.code).toBe('error_foo');
    expect(err.name).toBe('DflockdError');
    expect(err.key).toBe('k');
    expect(err.command).toBe('sl');
    expect(err.message).toContain('error_foo some detail');
    expect(err.message).toContain('"k"');
  });
});

describe('client-side error classes', () => {
  it('ConnectionError defaults to CONNECTION_CLOSED', () => {
    const err = new ConnectionError('closed', { server: 'h:1' });
    expect(err).toBeInstanceOf(DflockdError);
    expect(err.code).toBe('CONNECTION_CLOSED');
    expect(err.name).toBe('ConnectionError');
    expect(err.server).toBe('h:1');
  });

  it('ConnectTimeoutError is a ConnectionError with code CONNECT_TIMEOUT', () => {
    const err = new ConnectTimeoutError('slow', { server: 'h:1', command: 'connect' });
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).toBeInstanceOf(DflockdError);
    expect(err.code).toBe('CONNECT_TIMEOUT');
    expect(err.name).toBe('ConnectTimeoutError');
    expect(err.command).toBe('connect');
  });

  it('ProtocolError has code PROTOCOL_ERROR', () => {
    const err = new ProtocolError('bad line', { key: 'k', command: 'l' });
    expect(err).toBeInstanceOf(DflockdError);
    expect(err.code).toBe('PROTOCOL_ERROR');
    expect(err.name).toBe('ProtocolError');
    expect(err.key).toBe('k');
  });

  it('LeaseLostError has code LEASE_LOST and the reason', () => {
    const cause = new ServerError('gone', { key: 'k', command: 'n' });
    const err = new LeaseLostError('lost', { key: 'k', command: 'n', reason: 'expired', cause });
    expect(err).toBeInstanceOf(DflockdError);
    expect(err.code).toBe('LEASE_LOST');
    expect(err.name).toBe('LeaseLostError');
    expect(err.reason).toBe('expired');
    expect(err.key).toBe('k');
    expect(err.cause).toBe(cause);
  });

  it('InvalidArgumentError has code INVALID_ARGUMENT, the argument, and a message starting with it', () => {
    const err = new InvalidArgumentError('servers[1]', 'port must be an integer');
    expect(err).toBeInstanceOf(DflockdError);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.name).toBe('InvalidArgumentError');
    expect(err.argument).toBe('servers[1]');
    expect(err.message).toBe('servers[1]: port must be an integer');
  });

  it('DflockdError keeps any code and context', () => {
    const err = new DflockdError('SOMETHING', 'msg', { key: 'k', command: 'c', server: 's' });
    expect(err.code).toBe('SOMETHING');
    expect(err.name).toBe('DflockdError');
    expect(err.message).toBe('msg');
    expect([err.key, err.command, err.server]).toEqual(['k', 'c', 's']);
    expect(err.stack).toContain('DflockdError');
  });

  it('a subclass of a subclass still reports its own name', () => {
    class CustomTimeout extends AcquireTimeoutError {}
    const err = new CustomTimeout('m');
    expect(err.name).toBe('CustomTimeout');
    expect(err.code).toBe('timeout');
    expect(err).toBeInstanceOf(AcquireTimeoutError);
  });
});

describe('describeContext', () => {
  it.each<readonly [ErrorContext, string]>([
    [{}, 'dflockd'],
    [{ key: 'orders' }, 'key "orders"'],
    [{ command: 'l' }, 'dflockd (l)'],
    [{ key: 'orders', command: 'w' }, 'key "orders" (w)'],
    [{ key: 'orders', command: 'w', server: '127.0.0.1:6388' }, 'key "orders" (w on 127.0.0.1:6388)'],
    [{ server: 'h:1' }, 'dflockd (on h:1)'],
  ])('%j → %s', (ctx, text) => {
    expect(describeContext(ctx)).toBe(text);
  });
});

import { httpCallFor, httpError, replyFor } from '../../lib/http/http-mapping.js';
import { checkedAlready as wire } from '../../lib/protocol/commands.js';
import {
  AcquireTimeoutError,
  AlreadyEnqueuedError,
  AuthError,
  ConnectionError,
  DflockdError,
  DrainingError,
  LeaseExpiredError,
  LimitMismatchError,
  MaxLocksError,
  MaxWaitersError,
  NotEnqueuedError,
  ProtocolError,
  ServerError,
} from '../../lib/errors.js';

const context = { key: 'k', command: 'l', server: 'http://127.0.0.1:6389' };
const body = (error: string, detail?: string): string => JSON.stringify(detail === undefined ? { error } : { error, detail });

describe('HTTP mapping (PROTOCOL.md Part 3)', () => {
  it.each([
    [401, 'unauthorized', AuthError, 'error_auth'],
    [409, 'limit_mismatch', LimitMismatchError, 'error_limit_mismatch'],
    [409, 'already_enqueued', AlreadyEnqueuedError, 'error_already_enqueued'],
    [409, 'not_enqueued', NotEnqueuedError, 'error_not_enqueued'],
    [409, 'lease_expired', LeaseExpiredError, 'error_lease_expired'],
    [503, 'draining', DrainingError, 'error_draining'],
    [503, 'max_locks', MaxLocksError, 'error_max_locks'],
    [503, 'max_waiters', MaxWaitersError, 'error_max_waiters'],
    [404, 'not_held', ServerError, 'error'],
    [410, 'session_gone', ConnectionError, 'CONNECTION_CLOSED'],
    [429, 'rate_limited', DflockdError, 'error_rate_limited'],
  ])('%i %s → %p (code %s), with the key and command', (status, code, cls, expected) => {
    const error = httpError({ status, text: body(code, 'why') }, context);
    expect(error).toBeInstanceOf(cls);
    expect(error.code).toBe(expected);
    expect(error.key).toBe('k');
    expect(error.command).toBe('l');
  });

  it('a 401 without a body is still an AuthError; a 502 from a proxy a ConnectionError; a 400 page a ProtocolError', () => {
    expect(httpError({ status: 401, text: '' }, context)).toBeInstanceOf(AuthError);
    expect(httpError({ status: 502, text: '<html>bad gateway</html>' }, context)).toBeInstanceOf(ConnectionError);
    expect(httpError({ status: 400, text: '<html>' }, context)).toBeInstanceOf(ProtocolError);
  });

  it('builds the calls: path per kind, explicit lease only when given, the key URL-encoded', () => {
    expect(httpCallFor(wire.lock('a/b', 0, undefined))).toEqual({ method: 'POST', path: '/v1/locks/a%2Fb', body: '{"acquire_timeout_s":0}', sessionBound: true });
    expect(httpCallFor(wire.semLock('s', 5, 3, 20))).toMatchObject({ path: '/v1/semaphores/s', body: '{"acquire_timeout_s":5,"limit":3,"lease_ttl_s":20}' });
    expect(httpCallFor(wire.semEnqueue('s', 3, undefined))).toMatchObject({ path: '/v1/semaphores/s/enqueue', body: '{"limit":3}' });
    expect(httpCallFor(wire.wait('k', 7, false))).toMatchObject({ path: '/v1/locks/k/wait', body: '{"timeout_s":7}', sessionBound: true });
    expect(httpCallFor(wire.renew('k', 'ab', 30, true))).toMatchObject({ path: '/v1/semaphores/k/renew', body: '{"token":"ab","lease_ttl_s":30}', sessionBound: false });
    expect(httpCallFor(wire.release('k', 'ab', false))).toMatchObject({ path: '/v1/locks/k/release', body: '{"token":"ab"}', sessionBound: false });
  });

  it('reads the answers as the TCP replies', () => {
    const t = '0'.repeat(32);
    expect(replyFor(wire.lock('k', 0, undefined), { status: 200, text: `{"status":"ok","token":"${t}","lease_ttl_s":33}` }, context)).toEqual({ kind: 'granted', token: t, leaseS: 33 });
    expect(replyFor(wire.lock('k', 0, undefined), { status: 200, text: '{"status":"timeout"}' }, context)).toBeInstanceOf(AcquireTimeoutError);
    expect(replyFor(wire.enqueue('k', undefined), { status: 200, text: '{"status":"queued"}' }, context)).toEqual({ kind: 'queued' });
    expect(replyFor(wire.enqueue('k', undefined), { status: 200, text: `{"status":"acquired","token":"${t}","lease_ttl_s":5}` }, context)).toEqual({ kind: 'acquired', token: t, leaseS: 5 });
    expect(replyFor(wire.renew('k', t, 9, false), { status: 200, text: '{"remaining_s":9}' }, context)).toEqual({ kind: 'renewed', leaseS: 9 });
    expect(replyFor(wire.release('k', t, false), { status: 204, text: '' }, context)).toEqual({ kind: 'ok' });
    expect(replyFor(wire.lock('k', 0, undefined), { status: 200, text: 'not json' }, context)).toBeInstanceOf(ProtocolError);
    expect(replyFor(wire.lock('k', 0, undefined), { status: 200, text: '{"status":"ok","token":"no spaces allowed","lease_ttl_s":1}' }, context)).toBeInstanceOf(ProtocolError);
  });
});

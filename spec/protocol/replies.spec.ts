import {
  AcquireTimeoutError,
  AlreadyEnqueuedError,
  AuthError,
  DflockdError,
  DrainingError,
  ErrorContext,
  LeaseExpiredError,
  LimitMismatchError,
  MaxLocksError,
  MaxWaitersError,
  NotEnqueuedError,
  NotLeaderError,
  ProtocolError,
  ServerError,
} from '../../lib/errors';
import type { ExpectedReply } from '../../lib/protocol/commands';
import { Reply, acceptReply, interpretReply, parseReply } from '../../lib/protocol/replies';

const TOKEN = '0123456789abcdef0123456789abcdef';

describe('parseReply', () => {
  // PROTOCOL.md §1.4 "Response lines" and Part 2.
  const VALID: ReadonlyArray<readonly [string, Reply]> = [
    ['ok', { kind: 'ok' }],
    [`ok ${TOKEN} 33`, { kind: 'granted', token: TOKEN, leaseS: 33 }],
    [`ok ${TOKEN} 1`, { kind: 'granted', token: TOKEN, leaseS: 1 }],
    [`acquired ${TOKEN} 5`, { kind: 'acquired', token: TOKEN, leaseS: 5 }],
    ['ok 33', { kind: 'renewed', leaseS: 33 }],
    ['ok 60', { kind: 'renewed', leaseS: 60 }],
    ['ok {"connections":1,"locks":[],"semaphores":[],"idle_locks":[],"idle_semaphores":[]}', { kind: 'stats', json: { connections: 1, locks: [], semaphores: [], idle_locks: [], idle_semaphores: [] } }],
    ['ok {"locks":[{"key":"a b\\u0000","owner_conn_id":2}]}', { kind: 'stats', json: { locks: [{ key: 'a b\u0000', owner_conn_id: 2 }] } }],
    ['ok {}', { kind: 'stats', json: {} }],
    ['queued', { kind: 'queued' }],
    ['timeout', { kind: 'status', status: 'timeout', detail: undefined }],
    ['error', { kind: 'status', status: 'error', detail: undefined }],
    ['error_auth', { kind: 'status', status: 'error_auth', detail: undefined }],
    ['error_max_locks', { kind: 'status', status: 'error_max_locks', detail: undefined }],
    ['error_max_waiters', { kind: 'status', status: 'error_max_waiters', detail: undefined }],
    ['error_limit_mismatch', { kind: 'status', status: 'error_limit_mismatch', detail: undefined }],
    ['error_not_enqueued', { kind: 'status', status: 'error_not_enqueued', detail: undefined }],
    ['error_already_enqueued', { kind: 'status', status: 'error_already_enqueued', detail: undefined }],
    ['error_lease_expired', { kind: 'status', status: 'error_lease_expired', detail: undefined }],
    ['error_draining', { kind: 'status', status: 'error_draining', detail: undefined }],
    ['error_not_leader 10.0.0.1:6388', { kind: 'status', status: 'error_not_leader', detail: '10.0.0.1:6388' }],
    ['error_not_leader', { kind: 'status', status: 'error_not_leader', detail: undefined }],
    ['error_foo', { kind: 'status', status: 'error_foo', detail: undefined }],
  ];

  it.each(VALID)('%j', (line, expected) => {
    expect(parseReply(line)).toEqual(expected);
  });

  it('keeps the token as sent and the lease as a number', () => {
    const reply = parseReply(`ok ${TOKEN} 0033`);
    expect(reply).toEqual({ kind: 'granted', token: TOKEN, leaseS: 33 });
  });

  const GARBAGE: readonly string[] = [
    '',
    'OK',
    'Ok',
    ' ok',
    'ok ',
    'ok  33',
    'ok x',
    'ok -5',
    'ok 3.5',
    'ok 33 ',
    `ok ${TOKEN}`,
    `ok ${TOKEN} x`,
    `ok ${TOKEN} -1`,
    `ok ${TOKEN} 3.5`,
    `ok ${TOKEN} 33 extra`,
    `ok ${TOKEN}  33`,
    `ok ${TOKEN}\t 33`,
    'ok a\tb 33',
    `ok ${TOKEN} 3 3`,
    'ok\t33',
    'ok {not json',
    'ok {"a":1',
    'ok [1,2]',
    'acquired',
    `acquired ${TOKEN}`,
    `acquired ${TOKEN} x`,
    `acquired ${TOKEN} 5 6`,
    'QUEUED',
    'queued now',
    'timeout 5',
    'TIMEOUT',
    'error ',
    'errors',
    'Error',
    'sig chan payload',
    'hello world',
    '{"locks":[]}',
  ];

  it.each(GARBAGE)('%j → undefined', (line) => {
    expect(parseReply(line)).toBeUndefined();
  });
});

describe('interpretReply', () => {
  const ctx: ErrorContext = { key: 'orders', command: 'l', server: '127.0.0.1:6388' };

  describe('success replies are returned parsed', () => {
    const OK: ReadonlyArray<readonly [ExpectedReply, string, Reply]> = [
      ['grant', `ok ${TOKEN} 33`, { kind: 'granted', token: TOKEN, leaseS: 33 }],
      ['enqueue', `acquired ${TOKEN} 7`, { kind: 'acquired', token: TOKEN, leaseS: 7 }],
      ['enqueue', 'queued', { kind: 'queued' }],
      ['renewed', 'ok 10', { kind: 'renewed', leaseS: 10 }],
      ['ok', 'ok', { kind: 'ok' }],
      ['stats', 'ok {"connections":3}', { kind: 'stats', json: { connections: 3 } }],
      ['ping', 'ok', { kind: 'ok' }],
    ];
    it.each(OK)('%s ← %j', (expect_, line, reply) => {
      expect(interpretReply(line, expect_, ctx)).toEqual(reply);
    });
  });

  describe('status replies become the matching error, with code, key, command and server', () => {
    const STATUS: ReadonlyArray<readonly [string, new (...args: never[]) => DflockdError, string]> = [
      ['timeout', AcquireTimeoutError, 'timeout'],
      ['error', ServerError, 'error'],
      ['error_auth', AuthError, 'error_auth'],
      ['error_max_locks', MaxLocksError, 'error_max_locks'],
      ['error_max_waiters', MaxWaitersError, 'error_max_waiters'],
      ['error_limit_mismatch', LimitMismatchError, 'error_limit_mismatch'],
      ['error_not_enqueued', NotEnqueuedError, 'error_not_enqueued'],
      ['error_already_enqueued', AlreadyEnqueuedError, 'error_already_enqueued'],
      ['error_lease_expired', LeaseExpiredError, 'error_lease_expired'],
      ['error_draining', DrainingError, 'error_draining'],
      ['error_not_leader 10.0.0.1:6388', NotLeaderError, 'error_not_leader'],
      ['error_not_leader', NotLeaderError, 'error_not_leader'],
    ];
    const EXPECTS: readonly ExpectedReply[] = ['grant', 'enqueue', 'renewed', 'ok', 'stats'];

    it.each(STATUS)('%j', (line, cls, code) => {
      for (const e of EXPECTS) {
        const result = interpretReply(line, e, ctx);
        expect(result).toBeInstanceOf(cls);
        expect(result).toBeInstanceOf(DflockdError);
        const err = result as DflockdError;
        expect(err.code).toBe(code);
        expect(err.key).toBe('orders');
        expect(err.command).toBe('l');
        expect(err.server).toBe('127.0.0.1:6388');
        expect(err.message).toContain('orders');
        expect(err.message).toContain(code);
      }
    });

    it('error_not_leader carries the leader address, or undefined when bare', () => {
      const named = interpretReply('error_not_leader 10.0.0.1:6388', 'grant', ctx) as NotLeaderError;
      expect(named.leader).toBe('10.0.0.1:6388');
      expect(named.message).toContain('10.0.0.1:6388');
      const bare = interpretReply('error_not_leader', 'grant', ctx) as NotLeaderError;
      expect(bare).toBeInstanceOf(NotLeaderError);
      expect(bare.leader).toBeUndefined();
    });

    it('an unknown error_* status becomes the base DflockdError keeping the status as code', () => {
      const err = interpretReply('error_foo', 'grant', ctx) as DflockdError;
      expect(err.constructor).toBe(DflockdError);
      expect(err.code).toBe('error_foo');
      expect(err.key).toBe('orders');
      expect(err.command).toBe('l');
      expect(err.message).toContain('error_foo');
      const withDetail = interpretReply('error_foo bar baz', 'renewed', ctx) as DflockdError;
      expect(withDetail.constructor).toBe(DflockdError);
      expect(withDetail.code).toBe('error_foo');
      expect(withDetail.message).toContain('bar baz');
    });
  });

  describe('ping', () => {
    it('accepts plain `error` as a heartbeat answer (dflockd 1.10 has no ping)', () => {
      expect(interpretReply('error', 'ping', { command: 'ping' })).toEqual({ kind: 'ok' });
    });
    it('still fails on other statuses', () => {
      expect(interpretReply('error_auth', 'ping', { command: 'ping' })).toBeInstanceOf(AuthError);
      expect(interpretReply('error_draining', 'ping', { command: 'ping' })).toBeInstanceOf(DrainingError);
      expect(interpretReply('timeout', 'ping', { command: 'ping' })).toBeInstanceOf(AcquireTimeoutError);
    });
    it('plain `error` is not accepted for other commands', () => {
      for (const e of ['grant', 'enqueue', 'renewed', 'ok', 'stats'] as const) {
        expect(interpretReply('error', e, ctx)).toBeInstanceOf(ServerError);
      }
    });
  });

  describe('a well-formed reply that does not answer the command → ProtocolError', () => {
    const MISMATCH: ReadonlyArray<readonly [ExpectedReply, string]> = [
      ['grant', 'ok'],
      ['grant', 'queued'],
      ['grant', 'ok 33'],
      ['grant', `acquired ${TOKEN} 5`],
      ['grant', 'ok {"a":1}'],
      ['enqueue', `ok ${TOKEN} 5`],
      ['enqueue', 'ok'],
      ['renewed', 'ok'],
      ['renewed', `ok ${TOKEN} 33`],
      ['renewed', 'queued'],
      ['ok', 'ok 33'],
      ['ok', `ok ${TOKEN} 33`],
      ['stats', 'ok'],
      ['stats', 'ok 5'],
      ['ping', 'queued'],
      ['ping', 'ok 5'],
    ];
    it.each(MISMATCH)('%s ← %j', (e, line) => {
      const err = interpretReply(line, e, ctx);
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe('PROTOCOL_ERROR');
      expect((err as ProtocolError).key).toBe('orders');
      expect((err as ProtocolError).command).toBe('l');
      expect((err as ProtocolError).message).toContain(JSON.stringify(line));
    });
  });

  describe('a granted token is checked as a token argument would be', () => {
    it.each([
      ['a NUL', `ok ab\0cd 33`],
      ['more than 256 bytes', `ok ${'t'.repeat(257)} 33`],
      ['more than 256 UTF-8 bytes in fewer characters', `acquired ${'é'.repeat(129)} 33`],
    ])('a token with %s is no reply (releasing it would be refused)', (_what, line) => {
      expect(parseReply(line)).toBeUndefined();
    });

    it('accepts any other non-blank token, up to 256 bytes', () => {
      expect(parseReply(`ok ${'t'.repeat(256)} 33`)).toEqual({ kind: 'granted', token: 't'.repeat(256), leaseS: 33 });
      expect(parseReply('acquired é-ü 5')).toEqual({ kind: 'acquired', token: 'é-ü', leaseS: 5 });
    });
  });

  describe('acceptReply (the hot path: no error context)', () => {
    it('returns the success reply a command expects', () => {
      expect(acceptReply(`ok ${TOKEN} 33`, 'grant')).toEqual({ kind: 'granted', token: TOKEN, leaseS: 33 });
      expect(acceptReply('queued', 'enqueue')).toEqual({ kind: 'queued' });
      expect(acceptReply(`acquired ${TOKEN} 5`, 'enqueue')).toEqual({ kind: 'acquired', token: TOKEN, leaseS: 5 });
      expect(acceptReply('ok 9', 'renewed')).toEqual({ kind: 'renewed', leaseS: 9 });
      expect(acceptReply('ok', 'ok')).toEqual({ kind: 'ok' });
    });

    it.each([
      ['timeout', 'grant'],
      ['error_max_locks', 'grant'],
      ['hello', 'grant'],
      ['queued', 'grant'],
      [`ok ${TOKEN} 33`, 'enqueue'],
      ['ok', 'renewed'],
      ['error', 'ping'],
    ] as const)('is undefined for %j expecting %s: interpretReply then says what it is', (line, expected) => {
      expect(acceptReply(line, expected)).toBeUndefined();
      const outcome = interpretReply(line, expected, { key: 'k1', command: 'l', server: 'h:1' });
      if (outcome instanceof DflockdError) {
        expect(outcome.key).toBe('k1');
        expect(outcome.server).toBe('h:1');
      } else {
        // Only dflockd 1.10's `error` answer to ping counts as a success once interpreted.
        expect([line, expected]).toEqual(['error', 'ping']);
      }
    });
  });

  describe('garbage → ProtocolError naming the line', () => {
    it.each(['', 'OK', 'hello', 'ok {broken', `ok ${TOKEN} x`, 'sig a b'])('%j', (line) => {
      for (const e of ['grant', 'enqueue', 'renewed', 'ok', 'stats', 'ping'] as const) {
        const err = interpretReply(line, e, { key: 'k1', command: 'w' });
        expect(err).toBeInstanceOf(ProtocolError);
        const p = err as ProtocolError;
        expect(p.code).toBe('PROTOCOL_ERROR');
        expect(p.key).toBe('k1');
        expect(p.command).toBe('w');
        expect(p.message).toContain(JSON.stringify(line));
        expect(p.message).toContain('k1');
      }
    });

    it('truncates a huge garbage line in the message', () => {
      const line = `x${'y'.repeat(10_000)}`;
      const err = interpretReply(line, 'grant', ctx) as ProtocolError;
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err.message.length).toBeLessThan(400);
    });
  });
});

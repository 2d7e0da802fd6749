// The LockCore hook other front-ends (the HTTP one) use: an owner that is not a
// TCP connection holds, waits and is cleaned up like one, and shares fences.
import { fenceOf } from '../../../lib/protocol/fence';
import type { RequestOrigin } from '../../../lib/testing/server/handlers';
import type { LockCore } from '../../../lib/testing/server/lock-core';
import { eventually } from '../../helpers/eventually';
import { grant } from '../../helpers/raw-client';
import { useServer } from '../../helpers/server';

// A session-like origin: one request at a time, a blocked one answered through resume().
function session(core: LockCore): RequestOrigin & { replies: string[]; request(cmd: string, key: string, arg: string): string | null } {
  const id = core.openOwner();
  const replies: string[] = [];
  return {
    id,
    replies,
    resume: (reply) => replies.push(reply.trimEnd()), // replies are wire lines, LF included
    request(cmd, key, arg) {
      const req = core.parser.parse(cmd, key, arg);
      if (typeof req === 'number') throw new Error(`parse error ${req}`);
      return core.handlers.handle(this, req)?.trimEnd() ?? null;
    },
  };
}

describe.each(['2.1', '1.10'] as const)('compat %s: a non-TCP owner through server.core', (mode) => {
  const fx = useServer({ compat: mode });

  test('core is there only while running', () => {
    expect(fx.server.core).toBeDefined();
    expect(fx.server.core!.rules.mode).toBe(mode);
  });

  test('holds, is counted in stats.connections, and its end releases to a TCP waiter', async () => {
    const core = fx.server.core!;
    const s = session(core);
    const held = grant(s.request('l', 'hk', '0 30')!);
    const c = await fx.connect();
    // The TCP client and the session (v1.10.0 counts a connection a moment after its accept).
    await eventually(() => fx.server.connectionCount === 2, 'two owners counted', { timeoutMs: 2000, everyMs: 5 });
    c.send('l\nhk\n5\n');
    await eventually(() => fx.server.blockedCount === 1, 'the TCP waiter', { timeoutMs: 2000, everyMs: 5 });
    core.closeOwner(s.id);
    const granted = grant(await c.line());
    expect(fx.server.connectionCount).toBe(1);
    if (mode === '2.1') expect(fenceOf(granted.token)).toBe(fenceOf(held.token) + 1n);
  });

  test('waits behind a TCP holder and is answered through resume()', async () => {
    const core = fx.server.core!;
    const c = await fx.connect();
    const t = grant(await c.request('l', 'wk', '0'));
    const s = session(core);
    expect(s.request('l', 'wk', '5')).toBeNull();
    expect(fx.server.blockedCount).toBe(1);
    expect(await c.request('r', 'wk', t.token)).toBe('ok');
    await eventually(() => s.replies.length === 1, 'the session grant', { timeoutMs: 2000, everyMs: 5 });
    expect(grant(s.replies[0]!).status).toBe('ok');
    core.closeOwner(s.id);
  });

  test('abandon() takes a blocked owner out of the queue', async () => {
    const core = fx.server.core!;
    const c = await fx.connect();
    grant(await c.request('l', 'ak', '0'));
    const s = session(core);
    expect(s.request('l', 'ak', '5')).toBeNull();
    core.handlers.abandon(s);
    expect(fx.server.blockedCount).toBe(0);
    expect(fx.server.stats().locks.find((l) => l.key === 'ak')!.waiters).toBe(0);
    core.closeOwner(s.id);
  });
});

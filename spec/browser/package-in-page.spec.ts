// The package root in a real browser, bundled from the BUILT package as an application's bundler
// sees it (dist/ through package.json's `exports` and `browser` fields; `npm run build` first):
// the Promise facade over DflockdHttpClient acquires and releases on the test server, and
// whatever needs TCP fails with the TCP_UNAVAILABLE DflockdError that points to dflockd-rx/http
// (not a ReferenceError, not a bundler error). Node's globals are trapped in the page, so a
// browser path that so much as reads `Buffer` or `process` fails here.
import type { Page } from 'playwright-core';
import { firstValueFrom } from 'rxjs';
import { bundle, exampleAssets, waitForState, type PageLog } from './harness.js';
import { expectPageHoldsThenReleases, holdOverTcp, statsUntil, useBrowserFixture } from './fixture.js';
import type * as Root from '../../lib/index.js';
import type * as Http from '../../lib/http/index.js';

/** What the probe page puts on its window: both entries of the one bundled package. */
interface Probe {
  readonly root: typeof Root;
  readonly http: typeof Http;
}
declare const dflockdRx: Probe;

// Runs in the page before its scripts: Node's globals become getters that record each read and
// answer `undefined`, as a browser without them does. (`.unref()` needs no trap: a browser timer
// handle is a number, so an unguarded `.unref()` throws a TypeError, which fails the flows below.)
const TRAP_NODE_GLOBALS = `
  window.__nodeGlobalsRead = [];
  for (const name of ['Buffer', 'process', 'setImmediate', 'global']) {
    if (name in globalThis) throw new Error('the browser already has ' + name);
    Object.defineProperty(globalThis, name, { configurable: true, get() { window.__nodeGlobalsRead.push(name); return undefined; } });
  }
`;
const nodeGlobalsRead = (page: Page): Promise<string[]> => page.evaluate(() => (globalThis as unknown as { __nodeGlobalsRead: string[] }).__nodeGlobalsRead);

const fixture = useBrowserFixture(async () => ({
  ...(await exampleAssets('examples/browser/facade.html', 'facade-in-page.js', 'examples/browser/facade-in-page.ts', 'package')),
  '/probe.html': { type: 'text/html; charset=utf-8', body: '<!doctype html><title>probe</title><script src="/probe.js"></script>' },
  '/probe.js': { type: 'text/javascript; charset=utf-8', body: await bundle('spec/browser/package-probe.ts', 'package') },
}));

const pageErrors = (log: PageLog): string[] => log.lines.filter((l) => l.startsWith('pageerror'));

test('examples/browser/facade-in-page.ts: new DistributedLock(key, { client: DflockdHttpClient }) waits behind a TCP holder, acquires and releases on the server', async () => {
  const key = 'facade-in-page';
  const holder = await holdOverTcp(fixture.tcp, key);
  const url = `${fixture.pageOrigin}/?server=${encodeURIComponent(fixture.server.httpUrl!)}&key=${encodeURIComponent(key)}`;
  const { page, log } = await fixture.openPage(url, TRAP_NODE_GLOBALS);

  await page.locator('#acquire').click();
  await waitForState(page, '#state', 'acquiring', log);
  // acquire() waits in the server's queue (a long poll), not in a retry loop of the page.
  await statsUntil(fixture, key, (l) => l?.waiters === 1, 'the page waiting in the queue');

  await holder.release();
  await expectPageHoldsThenReleases(fixture, page, log, key);

  await page.locator('#close').click();
  await waitForState(page, '#state', 'closed', log);
  expect(fixture.server.httpSessionCount).toBe(0);
  expect(await nodeGlobalsRead(page)).toEqual([]);
  expect(pageErrors(log)).toEqual([]);
});

test('without `client`, DistributedLock, DistributedSemaphore, DflockdClient and connect() fail with TCP_UNAVAILABLE, a DflockdError naming dflockd-rx/http', async () => {
  const { page, log } = await fixture.openPage(`${fixture.pageOrigin}/probe.html`, TRAP_NODE_GLOBALS);
  const outcomes = await page.evaluate(async () => {
    const { root } = dflockdRx;
    const caught = (make: () => unknown): Record<string, unknown> => {
      try {
        make();
        return { threw: false };
      } catch (e) {
        const error = e as Error & { code?: string };
        return { threw: true, name: error.name, code: error.code, dflockd: e instanceof root.DflockdError, message: error.message };
      }
    };
    const socket = await new Promise<Record<string, unknown>>((resolve) =>
      root.connectLineSocket({ host: '127.0.0.1', port: 1 }).subscribe({
        next: () => resolve({ emitted: true }),
        error: (e: Error & { code?: string }) => resolve({ name: e.name, code: e.code, dflockd: e instanceof root.DflockdError, message: e.message }),
      }),
    );
    return {
      lock: caught(() => new root.DistributedLock('k')),
      semaphore: caught(() => new root.DistributedSemaphore('k', 2)),
      client: caught(() => new root.DflockdClient()),
      connect: caught(() => root.connect({ host: '127.0.0.1', port: 1, connectTimeoutS: 1 })),
      socket,
      // Validation still comes first and names the argument.
      badKey: caught(() => new root.DistributedLock('')),
    };
  });
  const unavailable = (what: string) => ({
    name: 'DflockdError',
    code: 'TCP_UNAVAILABLE',
    dflockd: true,
    message: `${what}: the TCP client needs Node.js (node:net); in a browser use DflockdHttpClient from 'dflockd-rx/http' (with the facade: new DistributedLock(key, { client: new DflockdHttpClient({ url }) }))`,
  });
  expect(outcomes).toEqual({
    lock: { threw: true, ...unavailable('new DistributedLock(…) without `client`') },
    semaphore: { threw: true, ...unavailable('new DistributedSemaphore(…) without `client`') },
    client: { threw: true, ...unavailable('new DflockdClient()') },
    connect: { threw: true, ...unavailable('connect()') },
    socket: unavailable('connectLineSocket()'),
    badKey: expect.objectContaining({ threw: true, name: 'InvalidArgumentError', code: 'INVALID_ARGUMENT', dflockd: true }),
  });
  expect(await nodeGlobalsRead(page)).toEqual([]);

  // The trap sees a read: LineDecoder, the TCP reply decoder, works on Node's Buffer.
  const decoder = await page.evaluate(() => {
    try {
      new dflockdRx.root.LineDecoder().push(new Uint8Array([111, 107]) as never);
      return 'decoded';
    } catch (e) {
      return (e as Error).name;
    }
  });
  expect(decoder).toBe('TypeError');
  expect(await nodeGlobalsRead(page)).toEqual(['Buffer']);
  expect(pageErrors(log)).toEqual([]);
});

test('the root and dflockd-rx/http share one copy: stableHashShard, a semaphore over the HTTP client, errors instanceof across entries, no Node global read', async () => {
  const { page, log } = await fixture.openPage(`${fixture.pageOrigin}/probe.html`, TRAP_NODE_GLOBALS);
  const key = 'probe-semaphore';
  const first = await page.evaluate(
    async ({ url, key }) => {
      const { root, http } = dflockdRx;
      let httpError: unknown;
      try {
        new http.DflockdHttpClient({ url: 'ftp://nowhere' });
      } catch (e) {
        httpError = e;
      }
      const client = new http.DflockdHttpClient({ url });
      const semaphore = new root.DistributedSemaphore(key, 2, { client, acquireTimeoutS: 5 });
      (globalThis as unknown as { probe: unknown }).probe = { client, semaphore };
      return {
        shards: ['my-resource', 'user:42', 'orders'].map((k) => root.stableHashShard(k, 3)),
        sameErrorClasses: http.DflockdError === root.DflockdError && httpError instanceof root.InvalidArgumentError,
        acquired: await semaphore.acquire(),
        token: semaphore.token,
      };
    },
    { url: fixture.server.httpUrl!, key },
  );
  // The vectors Node gives (spec/package/exports.spec.ts).
  expect(first).toEqual({ shards: [0, 1, 2], sameErrorClasses: true, acquired: true, token: expect.stringMatching(/^[0-9a-f]{32}$/) });
  const stats = await firstValueFrom(fixture.tcp.stats(0));
  expect(stats.semaphores.find((s) => s.key === key)).toMatchObject({ limit: 2, holders: 1 });

  const released = await page.evaluate(async () => {
    const { client, semaphore } = (globalThis as unknown as { probe: { client: Http.DflockdHttpClient; semaphore: Root.DistributedSemaphore } }).probe;
    const ok = await semaphore.release();
    await client.close();
    return ok;
  });
  expect(released).toBe(true);
  const after = await firstValueFrom(fixture.tcp.stats(0));
  expect(after.semaphores.find((s) => s.key === key)).toBeUndefined();
  expect(fixture.server.httpSessionCount).toBe(0);
  expect(await nodeGlobalsRead(page)).toEqual([]);
  expect(pageErrors(log)).toEqual([]);
});

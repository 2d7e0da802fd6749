// A real browser takes a lock: chromium loads examples/browser (bundled by esbuild, served from
// its own origin) and the page's DflockdHttpClient talks to the test server's HTTP API on another
// origin through CORS, sharing the lock table with a TCP client in this spec.
import { exampleAssets, launchChromium, waitForState } from './harness.js';
import { expectPageHoldsThenReleases, holdOverTcp, statsUntil, until, useBrowserFixture } from './fixture.js';

// A short session idle timeout (the client pings at half of it) so a closed tab's session is
// reaped within seconds.
const IDLE_S = 2;
const fixture = useBrowserFixture(() => exampleAssets('examples/browser/index.html', 'lock-in-page.js', 'examples/browser/lock-in-page.ts'), { httpSessionIdleTimeout: IDLE_S });
const pageUrl = (key: string) => `${fixture.pageOrigin}/?server=${encodeURIComponent(fixture.server.httpUrl!)}&key=${encodeURIComponent(key)}`;

test('the page is queued behind a TCP holder, acquires when it releases, and its unsubscribe releases the lock on the server', async () => {
  const key = 'browser-handover';
  const holder = await holdOverTcp(fixture.tcp, key);
  const { page, log } = await fixture.openPage(pageUrl(key));

  await waitForState(page, '#state', 'queued', log);
  expect(await fixture.lockStats(key)).toMatchObject({ waiters: 1 });

  // "Release" only unsubscribes: the client (and its session) stays open, so the server's
  // confirmation proves the unsubscribe released the lock, not the end of the session.
  await holder.release();
  await expectPageHoldsThenReleases(fixture, page, log, key);

  // A TCP client gets it at once (try-lock: no queue).
  const again = await holdOverTcp(fixture.tcp, key);
  await again.release();

  await page.locator('#close').click();
  await waitForState(page, '#state', 'closed', log);
  // close() deleted the page's sessions: nothing is left for the server to reap.
  expect(fixture.server.httpSessionCount).toBe(0);
  expect(log.lines.filter((l) => l.startsWith('pageerror'))).toEqual([]);
});

test('unsubscribing while queued gives the place in the queue up', async () => {
  const key = 'browser-queued-unsubscribe';
  const holder = await holdOverTcp(fixture.tcp, key);
  const { page, log } = await fixture.openPage(pageUrl(key));
  await waitForState(page, '#state', 'queued', log);
  expect(await fixture.lockStats(key)).toMatchObject({ waiters: 1 });

  await page.locator('#release').click();
  // The aborted long poll is dropped by the server on its own: no event to await, so read its
  // stats (bounded) until the waiter is gone while the TCP holder still holds.
  await statsUntil(fixture, key, (l) => l !== undefined && l.waiters === 0, 'no waiter');
  await holder.release();
  expect(await fixture.lockStats(key)).toBeUndefined();
  expect(await page.locator('#state').getAttribute('data-state')).toBe('queued');

  await page.locator('#close').click();
  await waitForState(page, '#state', 'closed', log);
});

test('a closed tab\'s lock is freed within twice the session idle timeout (its last requests may not get out; the server reaps the session)', async () => {
  const key = 'browser-closed-tab';
  const { page, log } = await fixture.openPage(pageUrl(key));
  await waitForState(page, '#state', 'acquired', log);
  expect(await fixture.lockStats(key)).toBeDefined();
  const closedAt = Date.now();
  await page.close({ runBeforeUnload: true });
  // Twice the idle timeout is the server's bound for a silent session; the rest is slack for a loaded machine.
  await statsUntil(fixture, key, (l) => l === undefined, 'the closed tab\'s lock released');
  expect(Date.now() - closedAt).toBeLessThan(2 * IDLE_S * 1000 + 3_000);
  // Whatever the page's last requests achieved, its sessions end: deleted, or reaped once silent.
  await until(() => fixture.server.httpSessionCount === 0, 'the closed tab\'s sessions gone');
  expect(Date.now() - closedAt).toBeLessThan(2 * IDLE_S * 1000 + 3_000);
});

test('the lock server answers a page only when its origin is listed (CORS)', async () => {
  const stats = JSON.stringify(fixture.server.httpUrl + '/v1/stats');
  // Bounded inside the page too: an unanswered fetch would otherwise hold evaluate() forever.
  const read = `fetch(${stats}, { signal: AbortSignal.timeout(5000) }).then((r) => r.json()).then((j) => 'answered ' + typeof j.connections, (e) => 'refused: ' + e.name)`;
  const listed = await fixture.openPage(fixture.pageOrigin + '/blank');
  expect(await listed.page.evaluate(read)).toBe('answered number');
  // Another port is another origin: the server sends no Access-Control-Allow-Origin for it, and
  // the browser itself withholds the answer from the page.
  const unlisted = await fixture.openPage(fixture.otherOrigin + '/blank');
  expect(await unlisted.page.evaluate(read)).toBe('refused: TypeError');
  expect(new Set([fixture.pageOrigin, fixture.otherOrigin, new URL(fixture.server.httpUrl!).origin]).size).toBe(3);
});

test('without chromium the browser specs fail (never skip) and say how to install it', async () => {
  await expect(launchChromium('/nonexistent/chromium')).rejects.toThrow(/not installed at \/nonexistent\/chromium[\s\S]*apt-get install -y chromium/);
});

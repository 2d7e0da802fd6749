// One lock server (TCP + HTTP), one TCP client, one page server and one chromium per spec file,
// all closed in afterAll whatever failed. The page's origin is the only CORS origin the lock
// server allows, and it differs from the lock server's own (another port).
import { firstValueFrom, filter, ReplaySubject, timeout, type Subscription } from 'rxjs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DflockdClient, type LockEvent, type LockStats } from '../../lib/index.js';
import { DflockdTestServer, type DflockdTestServerOptions } from '../../lib/testing/index.js';
import { BROWSER_WAIT_MS, launchChromium, recordPage, servePage, waitForState, type Asset, type PageLog, type PageServer } from './harness.js';

/** What a spec file gets from {@link useBrowserFixture}. */
export interface BrowserFixture {
  readonly server: DflockdTestServer;
  /** A TCP client on the same lock table. */
  readonly tcp: DflockdClient;
  /** The origin of the example's page, the one the lock server lists. */
  readonly pageOrigin: string;
  /** Another origin (another port) the lock server does not list; it serves only an empty `/blank`. */
  readonly otherOrigin: string;
  /**
   * A fresh context and page (closed in afterAll) at `url`, recording what the page logs;
   * `initScript` runs in the page before any of its own scripts.
   */
  openPage(url: string, initScript?: string): Promise<{ page: Page; log: PageLog }>;
  /** The server's view of `key` (undefined when it has neither holder nor waiter). */
  lockStats(key: string): Promise<LockStats | undefined>;
}

const BLANK: Asset = { type: 'text/html; charset=utf-8', body: '<!doctype html><title>blank</title>' };

/** Starts everything in beforeAll (bounded), stops everything in afterAll. */
export function useBrowserFixture(assets: () => Promise<Record<string, Asset>>, serverOptions: DflockdTestServerOptions = {}): BrowserFixture {
  let server: DflockdTestServer | undefined;
  let tcp: DflockdClient | undefined;
  let pages: PageServer | undefined;
  let other: PageServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    pages = await servePage({ ...(await assets()), '/blank': BLANK });
    other = await servePage({ '/blank': BLANK });
    server = new DflockdTestServer({ ...serverOptions, port: 0, host: '127.0.0.1', httpPort: 0, httpCorsAllowedOrigins: [pages.origin] });
    await server.start();
    tcp = new DflockdClient({ servers: [['127.0.0.1', server.port]] });
    browser = await launchChromium();
  }, BROWSER_WAIT_MS * 4);

  afterAll(async () => {
    // Each step runs even when an earlier one failed; the first failure is rethrown.
    const steps: Array<() => Promise<unknown> | undefined> = [
      ...contexts.map((c) => () => c.close()),
      () => browser?.close(),
      () => tcp?.close(),
      () => server?.stop(),
      () => pages?.close(),
      () => other?.close(),
    ];
    const results = [];
    for (const step of steps) results.push(await Promise.resolve().then(step).then(() => undefined, (e: unknown) => e));
    const failure = results.find((r) => r !== undefined);
    if (failure !== undefined) throw failure;
  }, BROWSER_WAIT_MS * 2);

  return {
    get server() {
      return server!;
    },
    get tcp() {
      return tcp!;
    },
    get pageOrigin() {
      return pages!.origin;
    },
    get otherOrigin() {
      return other!.origin;
    },
    async openPage(url, initScript) {
      const context = await browser!.newContext();
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(BROWSER_WAIT_MS);
      const log = recordPage(page);
      if (initScript !== undefined) await page.addInitScript(initScript);
      await page.goto(url, { timeout: BROWSER_WAIT_MS });
      return { page, log };
    },
    async lockStats(key) {
      const stats = await firstValueFrom(tcp!.stats(0));
      return stats.locks.find((l) => l.key === key);
    },
  };
}

/** Fails the stream with a message naming `what` when nothing arrives within `BROWSER_WAIT_MS`. */
function within<T>(what: string) {
  return timeout<T, never>({
    first: BROWSER_WAIT_MS,
    with: () => {
      throw new Error(`${what} did not arrive within ${BROWSER_WAIT_MS} ms`);
    },
  });
}

/** A TCP holder of `key`: resolves once acquired; `release()` unsubscribes and waits for the server's confirmation. */
export async function holdOverTcp(tcp: DflockdClient, key: string): Promise<{ release(): Promise<void> }> {
  const events = new ReplaySubject<LockEvent>();
  const subscription: Subscription = tcp.lock(key, { acquireTimeoutS: 5 }).subscribe(events);
  await firstValueFrom(events.pipe(filter((e) => e.type === 'acquired'), within(`the TCP client's acquisition of ${key}`)));
  return {
    async release() {
      const answered = firstValueFrom(
        tcp.events$.pipe(
          filter((e) => (e.type === 'released' || e.type === 'release-failed') && e.key === key),
          within(`the answer to the TCP release of ${key}`),
        ),
      );
      subscription.unsubscribe();
      expect((await answered).type).toBe('released');
    },
  };
}

/**
 * The example pages' grant and release, checked on the page and on the server: the page shows
 * `acquired` with its token while the server holds `key` for it with nobody waiting; its
 * "Release" button then shows `released` (the server's confirmation) and the key is gone.
 */
export async function expectPageHoldsThenReleases(fixture: BrowserFixture, page: Page, log: PageLog, key: string): Promise<void> {
  await waitForState(page, '#state', 'acquired', log);
  expect(await page.locator('#token').textContent()).toMatch(/^token [0-9a-f]{32}$/);
  const held = await fixture.lockStats(key);
  expect(held).toMatchObject({ waiters: 0 });
  expect(held!.leaseExpiresInS).toBeGreaterThan(0);

  await page.locator('#release').click();
  await waitForState(page, '#state', 'released', log);
  expect(await fixture.lockStats(key)).toBeUndefined();
}

/**
 * Reads the server's stats until `ok` holds for `key` (at most `tries` reads, `BROWSER_WAIT_MS`
 * in all): for changes the server makes on its own with no event to await, such as dropping a
 * waiter whose long poll was aborted.
 */
export async function statsUntil(fixture: BrowserFixture, key: string, ok: (l: LockStats | undefined) => boolean, what: string, tries = 300): Promise<LockStats | undefined> {
  const end = Date.now() + BROWSER_WAIT_MS;
  let last: LockStats | undefined;
  for (let i = 0; i < tries && Date.now() < end; i++) {
    last = await fixture.lockStats(key);
    if (ok(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  throw new Error(`the server never showed ${what} for ${key}; last stats: ${JSON.stringify(last)}`);
}

/** Checks `ok` until it holds (at most 300 times, `BROWSER_WAIT_MS` in all): for server state with no event to await. */
export async function until(ok: () => boolean, what: string, tries = 300): Promise<void> {
  const end = Date.now() + BROWSER_WAIT_MS;
  for (let i = 0; i < tries && Date.now() < end; i++) {
    if (ok()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never saw ${what} within ${BROWSER_WAIT_MS} ms`);
}

// A real Angular application takes and releases a lock: examples/angular (JIT, zoneless, bundled
// by esbuild) runs in chromium from its own origin; its DflockdLockService talks to the test
// server's HTTP API on another origin, queued behind a TCP holder in this spec.
import { exampleAssets, waitForState } from './harness.js';
import { holdOverTcp, statsUntil, useBrowserFixture } from './fixture.js';

const fixture = useBrowserFixture(() => exampleAssets('examples/angular/index.html', 'main.js', 'examples/angular/main.ts'));

test('the component shows queued, then acquired when the TCP holder releases; Release and withLock release on the server', async () => {
  const key = 'angular-report';
  const holder = await holdOverTcp(fixture.tcp, key);
  const { page, log } = await fixture.openPage(`${fixture.pageOrigin}/?server=${encodeURIComponent(fixture.server.httpUrl!)}&key=${key}`);
  await page.locator('body[data-bootstrapped="true"]').waitFor();
  expect(await page.locator('app-lock-status h1 code').textContent()).toBe(key);

  await waitForState(page, '#state', 'queued', log);
  expect(await fixture.lockStats(key)).toMatchObject({ waiters: 1 });

  await holder.release();
  await waitForState(page, '#state', 'acquired', log);
  const token = await page.locator('#token').textContent();
  expect(token).toMatch(/^[0-9a-f]{32}$/);
  expect(await fixture.lockStats(key)).toMatchObject({ waiters: 0 });

  await page.locator('#release').click();
  await waitForState(page, '#state', 'released', log);
  // The component gives the lock up locally at once; the server's table follows the /release.
  await statsUntil(fixture, key, (l) => l === undefined, 'the lock released');

  // withLock takes it again, runs the job under it and releases when the job settles.
  await page.locator('#job').click();
  await waitForState(page, '#job-state', 'done', log);
  const jobToken = await page.locator('#token').textContent();
  expect(jobToken).toMatch(/^[0-9a-f]{32}$/);
  expect(jobToken).not.toBe(token);
  await statsUntil(fixture, key, (l) => l === undefined, 'the job\'s lock released');

  // Nothing went wrong on the page (Angular reports errors on the console).
  expect(log.lines.filter((l) => l.startsWith('pageerror') || l.startsWith('console.error'))).toEqual([]);
});

// The browser harness: Debian's chromium driven by playwright-core (which downloads nothing),
// a page bundled by esbuild from an example in examples/, and a small node:http server that
// serves it from its own origin. Every wait is bounded; everything started here is closed by the
// caller's afterAll through the returned handles.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';

/** The repository root. */
export const root = path.join(__dirname, '..', '..');

/** Where CI's chromium lives (`.ci/run` installs Debian's package when it is missing). */
export const CHROMIUM = '/usr/bin/chromium';

/** Launch flags: headless, no sandbox (CI runs as root), and nothing that reaches the network. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Upper bound of every single wait on the browser (launch, navigation, a DOM state). */
export const BROWSER_WAIT_MS = 15_000;

/**
 * Launches chromium. Playwright gives every `launch` a fresh temporary user-data directory and
 * removes it on `close()`, so no profile is shared between runs. A missing binary fails the spec
 * (never skips it) with the command that installs it.
 */
export async function launchChromium(executablePath = CHROMIUM): Promise<Browser> {
  if (!existsSync(executablePath)) {
    throw new Error(`chromium is not installed at ${executablePath}: the browser specs need it. Install Debian's package with: apt-get update && apt-get install -y chromium (.ci/run does this when it is missing)`);
  }
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: BROWSER_WAIT_MS * 2 });
}

/**
 * Resolves the package's own entry points (`dflockd-rx`, `dflockd-rx/http`, …) to their
 * sources, as jest's moduleNameMapper does for the Node specs: the page runs the code under test,
 * not a stale build.
 */
const packageSources: Plugin = {
  name: 'dflockd-rx-sources',
  setup(b) {
    b.onResolve({ filter: /^dflockd-rx(\/[a-z-]+)?$/ }, (args) => {
      const sub = args.path.slice('dflockd-rx'.length);
      return { path: path.join(root, 'lib', sub, 'index.ts') };
    });
  },
};

/**
 * Where a bundle takes `dflockd-rx` from: `'sources'` (lib/, as jest does) or `'package'`, the
 * built dist/ through package.json's `exports` and `browser` fields, as an application's bundler
 * sees the published package (`npm run build` first).
 */
export type PackageFrom = 'sources' | 'package';

/**
 * Bundles one example for the browser: an IIFE, platform `browser`, so an import of any Node
 * built-in (by `node:` or bare name) fails the build — the proof that the entry runs in a page.
 */
export async function bundle(entry: string, from: PackageFrom = 'sources'): Promise<string> {
  if (from === 'package' && !existsSync(path.join(root, 'dist', 'esm', 'index.mjs'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const result = await build({
    entryPoints: [path.join(root, entry)],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    // The examples' own tsconfig: DOM lib and the decorator setting the Angular example needs.
    tsconfig: path.join(root, 'tsconfig.browser.json'),
    plugins: from === 'sources' ? [packageSources] : [],
    logLevel: 'silent',
    sourcemap: 'inline',
    legalComments: 'none',
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error(`esbuild produced nothing for ${entry}`);
  return out.text;
}

/** A page server on its own origin. */
export interface PageServer {
  /** `http://127.0.0.1:<port>`: the page's origin, to list in the lock server's CORS origins. */
  readonly origin: string;
  close(): Promise<void>;
}

/** A file the page server answers with. */
export interface Asset {
  readonly type: string;
  readonly body: string;
}

/** Serves `assets` (path → content) on 127.0.0.1, a free port; anything else is 404. */
export async function servePage(assets: Record<string, Asset>): Promise<PageServer> {
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://page.invalid').pathname;
    // Browsers ask for an icon on their own; no icon is no error.
    if (pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const asset = assets[pathname];
    if (req.method !== 'GET' || !asset) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': asset.type, 'Cache-Control': 'no-store' }).end(asset.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // Chromium keeps connections alive: end them, or close() waits for its idle timeout.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reads an example's HTML page and serves it at `/` with its bundle at `/<script>`. */
export async function exampleAssets(html: string, script: string, entry: string, from: PackageFrom = 'sources'): Promise<Record<string, Asset>> {
  const [page, js] = await Promise.all([readFile(path.join(root, html), 'utf8'), bundle(entry, from)]);
  return {
    '/': { type: 'text/html; charset=utf-8', body: page },
    [`/${script}`]: { type: 'text/javascript; charset=utf-8', body: js },
  };
}

/** What a page printed or threw, for failure messages. */
export interface PageLog {
  readonly lines: string[];
}

/** Records the page's console lines, uncaught errors and failed requests. */
export function recordPage(page: Page): PageLog {
  const lines: string[] = [];
  page.on('console', (m) => lines.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => lines.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) lines.push(`response: ${r.status()} ${r.request().method()} ${r.url()}`);
  });
  page.on('requestfailed', (r) => lines.push(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
  return { lines };
}

/**
 * Waits (bounded) until the element matching `selector` has `data-state="<state>"`; a timeout
 * names the state it saw and what the page logged.
 */
export async function waitForState(page: Page, selector: string, state: string, log: PageLog, timeoutMs = BROWSER_WAIT_MS): Promise<void> {
  try {
    await page.locator(`${selector}[data-state="${state}"]`).waitFor({ state: 'attached', timeout: timeoutMs });
  } catch (error) {
    const seen = await page
      .locator(selector)
      .getAttribute('data-state', { timeout: 1_000 })
      .catch(() => '(no element)');
    throw new Error(`${selector} never reached data-state="${state}" within ${timeoutMs} ms (last: ${String(seen)}).\nPage log:\n${log.lines.join('\n') || '(empty)'}\n${(error as Error).message}`);
  }
}

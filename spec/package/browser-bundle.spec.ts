import { builtinModules } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { build, Metafile } from 'esbuild';

// `dflockd-rx` and `dflockd-rx/http` must bundle where no Node built-in exists (a browser, Deno,
// edge runtimes): each is bundled for the browser and its whole module graph checked for Node
// imports. Node built-ins are marked external (so esbuild reports them instead of failing on the
// first), then any that is imported — in the graph, or still in the output after tree shaking —
// fails. The built package is bundled through its own package.json (`exports`, and `browser`,
// which puts lib/transport/line-socket.browser.ts in the socket module's place), as an
// application's bundler sees it. spec/browser/package-in-page.spec.ts runs such a bundle in Chromium.

const root = path.join(__dirname, '..', '..');
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const isBuiltin = (specifier: string): boolean => specifier.startsWith('node:') || BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0]!);

async function bundle(contents: string, platform: 'browser' | 'neutral' = 'browser'): Promise<Metafile> {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    platform,
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    // rxjs is the peer dependency: the application bundles it once.
    external: ['rxjs', ...BUILTINS],
  });
  return result.metafile;
}

/**
 * Bundles `contents` (rxjs included, minified as a production build would be) into a script
 * that leaves the exports on `globalThis.bundled`, and runs it in a fresh V8 context: only
 * ECMAScript's globals, no `Buffer`, `process`, `setImmediate`, `require` or timers.
 */
async function runBundled(contents: string): Promise<Record<string, unknown>> {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'bundled',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  const context = vm.createContext({});
  vm.runInContext(result.outputFiles[0]!.text, context, { timeout: 5_000 });
  return (context as { bundled: Record<string, unknown> }).bundled;
}

/** Every Node built-in imported anywhere in the bundled graph, as `importer → specifier`. */
function nodeImportsInGraph(meta: Metafile): string[] {
  const found: string[] = [];
  for (const [file, input] of Object.entries(meta.inputs)) for (const imp of input.imports) if (isBuiltin(imp.path)) found.push(`${file} → ${imp.path}`);
  return found;
}

/** Node built-ins the output still imports after tree shaking. */
function nodeImportsInOutput(meta: Metafile): string[] {
  return Object.values(meta.outputs).flatMap((out) => out.imports.filter((imp) => isBuiltin(imp.path)).map((imp) => imp.path));
}

/** The specs of the built package need dist/ (`npm test` builds it first). */
function requireBuilt(): void {
  if (!fs.existsSync(path.join(root, 'dist', 'esm', 'http', 'index.mjs'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
}

describe('browser bundles (esbuild, --platform=browser)', () => {
  it('the sources of dflockd-rx/http import no Node built-in anywhere in their graph', async () => {
    const meta = await bundle(`export * from './lib/http/index.ts';`);
    expect(Object.keys(meta.inputs)).toContain('lib/lease/acquisition.ts');
    expect(Object.keys(meta.inputs)).toContain('lib/lease/held-lease.ts');
    expect(nodeImportsInGraph(meta)).toEqual([]);
    // Nor does it reach the TCP side at all.
    expect(Object.keys(meta.inputs).filter((f) => /lib\/(transport|connection)\//.test(f) || f === 'lib/client.ts')).toEqual([]);
  });

  it('the spec detects a Node import (it would fail on one)', async () => {
    const meta = await bundle(`export * from './lib/transport/line-socket.ts';`);
    expect(nodeImportsInGraph(meta)).toEqual(expect.arrayContaining(['lib/transport/line-socket.ts → node:net']));
  });

  // From the sources (ESM, tree-shaken): the modules stableHashShard reaches import nothing of Node.
  it("import { stableHashShard } from the sources of 'dflockd-rx' bundles with no Node import left", async () => {
    const meta = await bundle(`export { stableHashShard } from './lib/index.ts';`);
    expect(nodeImportsInOutput(meta)).toEqual([]);
  });

  it('the built dflockd-rx/http (through the exports map) bundles with no Node built-in in its graph', async () => {
    requireBuilt();
    const meta = await bundle(`export { DflockdHttpClient } from 'dflockd-rx/http';`);
    expect(Object.keys(meta.inputs).some((f) => f.startsWith('dist/'))).toBe(true);
    expect(nodeImportsInGraph(meta)).toEqual([]);
  });

  // The root's CommonJS index cannot be tree-shaken: all of it is in the graph, the TCP client
  // too, with the socket module swapped for its stand-in by package.json's `browser` field.
  it.each([
    ['import (the ESM face)', `export * from 'dflockd-rx';`, 'dist/esm/index.mjs'],
    ['require (the CommonJS index)', `module.exports = require('dflockd-rx');`, 'dist/cjs/index.js'],
    ['the facade and the HTTP client', `export { DistributedLock, DistributedSemaphore, DflockdError, stableHashShard } from 'dflockd-rx';\nexport { DflockdHttpClient } from 'dflockd-rx/http';`, 'dist/cjs/http/http-client.js'],
  ])('the built dflockd-rx, by %s, bundles with no Node built-in in its graph (the socket module is its browser stand-in)', async (_how, contents, reached) => {
    requireBuilt();
    const meta = await bundle(contents);
    const inputs = Object.keys(meta.inputs);
    expect(inputs).toEqual(expect.arrayContaining([reached, 'dist/cjs/facade/distributed-lock.js', 'dist/cjs/client.js', 'dist/cjs/transport/line-socket.browser.js']));
    expect(inputs).not.toContain('dist/cjs/transport/line-socket.js');
    expect(nodeImportsInGraph(meta)).toEqual([]);
  });

  it('without the `browser` field the root would reach node:net, and the spec would see it', async () => {
    requireBuilt();
    // esbuild's neutral platform reads `exports` but not `browser`.
    const meta = await bundle(`export * from 'dflockd-rx';`, 'neutral');
    expect(nodeImportsInGraph(meta)).toEqual(expect.arrayContaining(['dist/cjs/transport/line-socket.js → node:net', 'dist/cjs/transport/line-socket.js → node:tls']));
  });

  // Loading needs none of Node's globals, and an error keeps its documented name through a
  // minifier that renames every class (each class's name is written out in lib/errors.ts).
  it('the built root and http entries, minified, load in a context with no Node global; the TCP parts fail with TCP_UNAVAILABLE, errors keep their names', async () => {
    requireBuilt();
    const api = await runBundled(`export * from 'dflockd-rx';\nexport { DflockdHttpClient } from 'dflockd-rx/http';`);
    expect((api['stableHashShard'] as (key: string, n: number) => number)('user:42', 3)).toBe(1);
    const DflockdError = api['DflockdError'] as new (...args: never[]) => Error;
    const DistributedLock = api['DistributedLock'] as new (key: string) => unknown;
    let refused: unknown;
    try {
      new DistributedLock('k');
    } catch (error) {
      refused = error;
    }
    // Not `instanceof Error`: the bundle runs in another realm, with its own Error.
    expect(refused instanceof DflockdError).toBe(true);
    expect(refused).toMatchObject({ name: 'DflockdError', code: 'TCP_UNAVAILABLE', message: expect.stringContaining("in a browser use DflockdHttpClient from 'dflockd-rx/http'") });
    const errorClasses = Object.entries(api).filter(([, value]) => typeof value === 'function' && (value as { prototype: unknown }).prototype instanceof DflockdError);
    expect(errorClasses.length).toBeGreaterThan(15);
    expect(errorClasses.filter(([name, cls]) => (cls as { name: string }).name !== name).map(([name]) => name)).toEqual([]);
  });
});

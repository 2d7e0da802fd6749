import { builtinModules } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, Metafile } from 'esbuild';

// `dflockd-rx/http` must run where no Node built-in exists (a browser, Deno, edge runtimes): each
// entry is bundled for the browser and its whole module graph checked for Node imports. Node
// built-ins are marked external (so esbuild reports them instead of failing on the first), then
// any that is imported — in the graph, or still in the output after tree shaking — fails.

const root = path.join(__dirname, '..', '..');
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const isBuiltin = (specifier: string): boolean => specifier.startsWith('node:') || BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0]!);

async function bundle(contents: string): Promise<Metafile> {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    // rxjs is the peer dependency: the application bundles it once.
    external: ['rxjs', ...BUILTINS],
  });
  return result.metafile;
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

const distBuilt = fs.existsSync(path.join(root, 'dist', 'esm', 'http', 'index.mjs'));

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
  // The built root entry cannot say the same yet: its ESM face re-exports the whole CommonJS
  // index, which requires the TCP transport at the top (see the CHANGELOG).
  it("import { stableHashShard } from the sources of 'dflockd-rx' bundles with no Node import left", async () => {
    const meta = await bundle(`export { stableHashShard } from './lib/index.ts';`);
    expect(nodeImportsInOutput(meta)).toEqual([]);
  });

  it('the built dflockd-rx/http (through the exports map) bundles with no Node built-in in its graph', async () => {
    if (!distBuilt) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    const meta = await bundle(`export { DflockdHttpClient } from 'dflockd-rx/http';`);
    expect(Object.keys(meta.inputs).some((f) => f.startsWith('dist/'))).toBe(true);
    expect(nodeImportsInGraph(meta)).toEqual([]);
  });
});

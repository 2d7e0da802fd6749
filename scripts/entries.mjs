// The package's entry points: the ONE list a new entry is added to. Everything else is derived
// from it — the build's ESM wrappers, package.json's `exports`, `main`/`types`, `typesVersions`
// and `browser` (written by the build, checked by spec/package/entries.spec.ts), TypeDoc's
// entry points (typedoc.config.mjs) and the tarball spec's expectations.

/** `subpath` as in `exports` ('.' is the package root); `source` is the TypeScript entry file under lib/. */
export const ENTRIES = [
  { subpath: '.', source: 'lib/index.ts' },
  { subpath: './testing', source: 'lib/testing/index.ts' },
  { subpath: './nestjs', source: 'lib/nestjs/index.ts' },
  { subpath: './http', source: 'lib/http/index.ts' },
];

/**
 * The Node-only modules of the browser entries ('.' and './http') and the stand-ins a browser
 * bundle gets in their place: package.json's `browser` file map, which a browser build of esbuild
 * (checked by spec/package/browser-bundle.spec.ts), webpack, Vite, the Angular CLI and Rollup's
 * node-resolve (`browser: true`) honour. A stand-in has the same exports (entries.spec.ts checks)
 * and fails with a clear error where Node is needed. Every other module is the one Node runs.
 */
export const BROWSER_STAND_INS = [{ source: 'lib/transport/line-socket.ts', browser: 'lib/transport/line-socket.browser.ts' }];

/** A module's path below lib/ without its extension (`lib/a/b.ts` → `a/b`): where dist/ puts it. */
const stemOf = (source) => source.replace(/^lib\//, '').replace(/\.ts$/, '');

/** The built CommonJS file of a module under lib/ (`lib/a/b.ts` → `./dist/cjs/a/b.js`). */
export function cjsFile(source) {
  return `./dist/cjs/${stemOf(source)}.js`;
}

/** Where one entry's files land in dist/: the CommonJS implementation and its thin ESM face. */
export function entryFiles(entry) {
  const stem = stemOf(entry.source);
  return {
    cjs: cjsFile(entry.source),
    cjsTypes: `./dist/cjs/${stem}.d.ts`,
    esm: `./dist/esm/${stem}.mjs`,
    esmTypes: `./dist/esm/${stem}.d.mts`,
  };
}

/**
 * The package.json fields the entry list and the browser stand-ins decide. Conditions are nested
 * per format so that each format finds its own declarations (`.d.ts` for CommonJS, `.d.mts` for
 * the ESM face), `types` first in each as TypeScript requires; `typesVersions` serves
 * `moduleResolution: node10`, which does not read `exports`; `browser` maps each Node-only
 * module's built file to its stand-in's.
 */
export function packageFields(entries = ENTRIES, standIns = BROWSER_STAND_INS) {
  const root = entries.find((e) => e.subpath === '.');
  if (root === undefined) throw new Error('entries.mjs: the package root (subpath ".") is missing');
  const exports = {};
  const typesVersions = {};
  for (const entry of entries) {
    const f = entryFiles(entry);
    exports[entry.subpath] = {
      import: { types: f.esmTypes, default: f.esm },
      require: { types: f.cjsTypes, default: f.cjs },
    };
    if (entry.subpath !== '.') typesVersions[entry.subpath.slice(2)] = [f.cjsTypes];
  }
  exports['./package.json'] = './package.json';
  return {
    main: entryFiles(root).cjs,
    types: entryFiles(root).cjsTypes,
    exports,
    typesVersions: { '*': typesVersions },
    browser: Object.fromEntries(standIns.map((s) => [cjsFile(s.source), cjsFile(s.browser)])),
  };
}

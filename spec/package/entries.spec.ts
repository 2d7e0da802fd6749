import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import jestConfig from '../../jest.config.js';

// A new entry point is one line in scripts/entries.mjs. The build writes package.json's entry
// fields from it; this spec checks that what is committed agrees, and that the other places that
// name entries (TypeDoc, jest's source mapping) cover each one.
const root = path.join(__dirname, '..', '..');

interface Entry {
  readonly subpath: string;
  readonly source: string;
}
interface StandIn {
  readonly source: string;
  readonly browser: string;
  /** Their built CommonJS files, as scripts/entries.mjs names them (`cjsFile`). */
  readonly built: { readonly source: string; readonly browser: string };
}
interface Derived {
  readonly entries: Entry[];
  readonly standIns: StandIn[];
  readonly fields: Record<string, unknown>;
  readonly files: Record<string, Record<string, string>>;
  readonly typedoc: string[];
}

// scripts/*.mjs are ES modules: ask Node rather than ts-jest to load them.
const derived = JSON.parse(
  execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { BROWSER_STAND_INS, ENTRIES, cjsFile, entryFiles, packageFields } from './scripts/entries.mjs';
       import typedoc from './typedoc.config.mjs';
       console.log(JSON.stringify({ entries: ENTRIES, standIns: BROWSER_STAND_INS.map((s) => ({ ...s, built: { source: cjsFile(s.source), browser: cjsFile(s.browser) } })), fields: packageFields(), files: Object.fromEntries(ENTRIES.map((e) => [e.subpath, entryFiles(e)])), typedoc: typedoc.entryPoints }));`,
    ],
    { cwd: root, encoding: 'utf8', timeout: 20_000 },
  ),
) as Derived;

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, unknown>;

test('package.json main, types, exports, typesVersions and browser are the ones scripts/entries.mjs derives (npm run build rewrites them)', () => {
  expect(Object.keys(derived.fields).sort()).toEqual(['browser', 'exports', 'main', 'types', 'typesVersions']);
  for (const [field, value] of Object.entries(derived.fields)) expect({ field, value: pkg[field] }).toEqual({ field, value });
  expect(pkg['sideEffects']).toBe(false);
});

test('package.json `browser` maps each Node-only module\'s build to its stand-in\'s, both built, with the same exports', () => {
  expect(derived.standIns.length).toBeGreaterThan(0);
  expect(pkg['browser']).toEqual(Object.fromEntries(derived.standIns.map((s) => [s.built.source, s.built.browser])));
  for (const standIn of derived.standIns) {
    for (const file of [standIn.source, standIn.browser]) expect({ file, exists: fs.existsSync(path.join(root, file)) }).toEqual({ file, exists: true });
    expect(standIn.browser).toMatch(/\.browser\.ts$/);
    // The stand-in can stand in only for a module it imports nothing but types from.
    expect(fs.readFileSync(path.join(root, standIn.browser), 'utf8')).not.toMatch(/from 'node:|require\(/);
    const [node, browser] = [standIn.built.source, standIn.built.browser].map((file) => Object.keys(require(path.join(root, file))).sort());
    expect({ module: standIn.source, exports: browser }).toEqual({ module: standIn.source, exports: node });
  }
});

test('every entry has a source, and the build made its CommonJS module, ESM face and both declarations', () => {
  for (const entry of derived.entries) {
    expect(fs.existsSync(path.join(root, entry.source))).toBe(true);
    for (const file of Object.values(derived.files[entry.subpath]!)) expect({ file, built: fs.existsSync(path.join(root, file)) }).toEqual({ file, built: true });
  }
});

test('TypeDoc documents every entry', () => {
  expect(derived.typedoc).toEqual(derived.entries.map((e) => e.source));
});

test("jest maps every entry's package name to its source (examples import the package by name)", () => {
  // Every project of the config (the two dflockd generations) maps the same names.
  const projects = (jestConfig.projects ?? [jestConfig]) as Array<{ moduleNameMapper?: Record<string, string> }>;
  expect(projects.length).toBeGreaterThan(0);
  for (const project of projects) expectMapped((project.moduleNameMapper ?? {}) as Record<string, string>);
});

function expectMapped(mapper: Record<string, string>): void {
  for (const entry of derived.entries) {
    const name = entry.subpath === '.' ? 'dflockd-rx' : `dflockd-rx/${entry.subpath.slice(2)}`;
    const pattern = Object.keys(mapper).find((p) => new RegExp(p).test(name));
    const maps = pattern === undefined ? undefined : name.replace(new RegExp(pattern), mapper[pattern]!).replace('<rootDir>/', '');
    expect({ name, maps }).toEqual({ name, maps: entry.source });
  }
}

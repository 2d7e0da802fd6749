// TypeDoc settings (`npm run docs`): the API reference of every entry point in scripts/entries.mjs.
import { ENTRIES } from './scripts/entries.mjs';

/** @type {Partial<import('typedoc').TypeDocOptions>} */
const config = {
  entryPoints: ENTRIES.map((entry) => entry.source),
  tsconfig: 'tsconfig.build.json',
  out: 'docs/api',
  name: 'dflockd-rx',
  readme: 'README.md',
  excludeInternal: true,
  excludePrivate: true,
  excludeProtected: true,
  // Every warning fails the run (and its spec): a symbol without TSDoc, a broken {@link}, a
  // referenced type that is not exported.
  treatWarningsAsErrors: true,
  // The README's lease diagram is a ```mermaid block: GitHub renders it; TypeDoc shows it as
  // plain text rather than warning that it cannot highlight it.
  ignoredHighlightLanguages: ['mermaid'],
  validation: {
    notExported: true,
    invalidLink: true,
    notDocumented: true,
  },
  disableSources: true,
  requiredToBeDocumented: ['Class', 'Function', 'Interface', 'TypeAlias', 'Variable', 'Enum', 'Method', 'Accessor'],
};

export default config;

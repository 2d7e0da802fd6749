// Bundled for the browser from the BUILT package (dist/ through package.json's `exports` and
// `browser` fields) by spec/browser/package-in-page.spec.ts, which drives it with
// page.evaluate: both browser entries, one copy of the package, on the page's window.
import * as root from 'dflockd-rx';
import * as http from 'dflockd-rx/http';

(globalThis as { dflockdRx?: unknown }).dflockdRx = { root, http };

/**
 * The Promise facade in a web page: `DistributedLock` from the package root, over the HTTP
 * client of `dflockd-rx/http`. A browser bundle of the root has no TCP client (the package's
 * `browser` field swaps its socket module for a stand-in), so the facade needs its `client`.
 *
 * Bundle it for the browser (`esbuild examples/browser/facade-in-page.ts --bundle
 * --outfile=facade-in-page.js`), serve it next to facade.html and open
 * `facade.html?server=http://127.0.0.1:6389&key=report`. The lock server must listen for HTTP
 * (`--http-port 6389`) and list the page's origin in `--http-cors-allowed-origins`.
 */
import { DistributedLock } from 'dflockd-rx';
import { DflockdHttpClient } from 'dflockd-rx/http';

const params = new URLSearchParams(location.search);
const url = params.get('server') ?? 'http://127.0.0.1:6389';
const key = params.get('key') ?? 'report';

function element<T extends HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (!found) throw new Error(`facade.html has no ${selector}`);
  return found;
}
const state = element<HTMLOutputElement>('#state');
const token = element<HTMLElement>('#token');

/** `data-state` is for scripts (and the browser spec); the text is for people. */
function show(name: string, text: string = name): void {
  state.dataset['state'] = name;
  state.textContent = text;
}
const failed = (error: unknown): void => show('error', `error: ${error instanceof Error ? error.message : String(error)}`);

element<HTMLElement>('#key').textContent = key;
const client = new DflockdHttpClient({ url });
// Without `client`, a browser bundle throws DflockdError TCP_UNAVAILABLE here: no TCP in a page.
const lock = new DistributedLock(key, { client, acquireTimeoutS: 30, leaseTtlS: 10 });
lock.lost$.subscribe((event) => show('lost', `lost (${event.reason})`));

element<HTMLButtonElement>('#acquire').addEventListener('click', () => {
  show('acquiring', 'waiting for the lock');
  lock.acquire().then((held) => {
    if (!held) return show('busy', 'still busy after 30 s');
    show('acquired');
    token.textContent = `token ${lock.token}`;
  }, failed);
});
element<HTMLButtonElement>('#release').addEventListener('click', () => {
  lock.release().then((released) => show(released ? 'released' : 'not-held', released ? 'released (confirmed by the server)' : 'nothing was held'), failed);
});
element<HTMLButtonElement>('#close').addEventListener('click', () => {
  client.close().then(() => show('closed', 'client closed: the session is gone'), failed);
});
// A closing tab cannot count on its last requests: the server reaps the silent session.
addEventListener('pagehide', () => void client.close());

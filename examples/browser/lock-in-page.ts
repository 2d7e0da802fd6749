/**
 * A lock held by a web page, over dflockd's HTTP API (`dflockd-rx/http`: fetch, no Node).
 *
 * Bundle it for the browser (`esbuild examples/browser/lock-in-page.ts --bundle
 * --outfile=lock-in-page.js`), serve it next to index.html and open
 * `index.html?server=http://127.0.0.1:6389&key=report`. The lock server must listen for HTTP
 * (`--http-port 6389`) and list the page's origin in `--http-cors-allowed-origins`.
 *
 * The page shows each lease event of the key; "Release" unsubscribes, which gives up a place in
 * the queue or releases a held lock; "Close the client" ends the HTTP session.
 */
import { DflockdHttpClient } from 'dflockd-rx/http';

const params = new URLSearchParams(location.search);
const url = params.get('server') ?? 'http://127.0.0.1:6389';
const key = params.get('key') ?? 'report';

function element<T extends HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (!found) throw new Error(`index.html has no ${selector}`);
  return found;
}
const state = element<HTMLOutputElement>('#state');
const token = element<HTMLElement>('#token');

/** `data-state` is for scripts (and the browser spec); the text is for people. */
function show(name: string, text: string = name): void {
  state.dataset['state'] = name;
  state.textContent = text;
}

element<HTMLElement>('#key').textContent = key;
const client = new DflockdHttpClient({ url });

// The server's confirmation of a release arrives on the client's event stream, not the lease's.
client.events$.subscribe((event) => {
  if (event.type === 'released' && event.key === key) show('released', 'released (confirmed by the server)');
});

const lease = client.lock(key, { acquireTimeoutS: 60, leaseTtlS: 10 }).subscribe({
  next: (event) => {
    switch (event.type) {
      case 'queued':
        show('queued', 'queued behind another holder');
        break;
      case 'acquired':
        show('acquired');
        token.textContent = `token ${event.token}`;
        break;
      case 'renewed':
        // Still held: the state stays, the text says the lease was extended.
        show('acquired', `acquired, renewed for ${event.leaseS} s`);
        break;
      case 'lost':
        show('lost', `lost (${event.reason})`);
        break;
    }
  },
  error: (error: unknown) => show('error', `error: ${error instanceof Error ? error.message : String(error)}`),
});

element<HTMLButtonElement>('#release').addEventListener('click', () => lease.unsubscribe());
element<HTMLButtonElement>('#close').addEventListener('click', () => {
  lease.unsubscribe();
  client.close().then(
    () => show('closed', 'client closed: the session is gone'),
    (error: unknown) => show('error', `close failed: ${String(error)}`),
  );
});
// A closing tab waits for nothing: what close() sends may never leave the page (in Chromium it
// does not), and then the server reaps the silent session, and the lock with it, after twice its
// idle timeout. The lease outlives the tab by at most that (or by its own length, if shorter).
addEventListener('pagehide', () => void client.close());

import { ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { firstValueFrom } from 'rxjs';
import { FaultProxy } from '../../lib/testing/index';
import { TestServer, startServer } from '../helpers/server';

// "Nothing keeps the process alive once nothing is subscribed" — also when the last release was
// written into a black hole: the connection is given up after requestTimeoutS, and then no
// timer or socket is left. A child process (the built package, as users run it) acquires
// through a FaultProxy; the proxy black-holes; the child unsubscribes and must exit on its own.

const dist = path.join(__dirname, '..', '..', 'dist', 'cjs', 'index.js');
const REQUEST_TIMEOUT_S = 1;

const CHILD = `
const { DflockdClient } = require(${JSON.stringify(dist)});
const client = new DflockdClient({ servers: [['127.0.0.1', Number(process.argv[2])]], requestTimeoutS: ${REQUEST_TIMEOUT_S} });
const sub = client.lock('bh-key', { acquireTimeoutS: 5, leaseTtlS: 30 }).subscribe({
  next: (event) => process.send({ type: event.type }),
  error: (error) => process.send({ type: 'error', message: String(error) }),
});
process.on('message', () => {
  // Nothing but the client may keep this process alive from here on.
  process.disconnect();
  sub.unsubscribe();
});
`;

let server: TestServer;
let proxy: FaultProxy;
let dir: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  server = await startServer();
  proxy = new FaultProxy({ target: { port: server.port } });
  await proxy.start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dflockd-rx-exit-'));
});

afterAll(async () => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await proxy.stop();
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a process whose last release went into a black hole exits by itself within requestTimeoutS + 2 s', async () => {
  expect(fs.existsSync(dist)).toBe(true); // built by `npm run build` (npm test builds first)
  const script = path.join(dir, 'child.js');
  fs.writeFileSync(script, CHILD);
  const accepted = firstValueFrom(proxy.connection$);
  const spawned = fork(script, [String(proxy.port)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  child = spawned;
  let stderr = '';
  spawned.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => spawned.once('exit', (code, signal) => resolve({ code, signal })));

  const first = await new Promise<{ type: string; message?: string }>((resolve) => spawned.once('message', (m) => resolve(m as { type: string })));
  expect(first).toEqual({ type: 'acquired' });
  (await accepted).blackhole();
  const started = performance.now();
  spawned.send('unsubscribe');

  const bound = new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), (REQUEST_TIMEOUT_S + 2) * 1000).unref());
  const outcome = await Promise.race([exited, bound]);
  const elapsed = performance.now() - started;
  expect(outcome).toEqual({ code: 0, signal: null });
  expect(stderr).toBe('');
  // The release could not be answered: the process waited for it, but no longer than the watchdog allows.
  expect(elapsed).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_S * 1000 - 50);
  proxy.heal();
});

import * as net from 'node:net';
import { type ClientEvent, DflockdClient } from '../../lib/index.js';
import { FaultProxy } from '../../lib/testing/index.js';
import { eventually } from '../helpers/eventually.js';
import { REAL_SERVER_BIN, type ServerOptions, type TestServer, startServer } from '../helpers/server.js';
import { liveClientTimers, socketsTo, trackClientTimers } from '../../tools/handles.js';

/** The lease sweep interval to ask for: sub-second in process, whole seconds for the real dflockd. */
export const SWEEP_S = REAL_SERVER_BIN ? 1 : 0.1;

/** How late a timer may fire on a busy test machine before "no later than the deadline" counts as broken. */
export const TIMER_SLACK_MS = 150;

/** One server for a spec file with a FaultProxy in front of it, set up by {@link useProxiedServer}. */
export interface ProxiedServer {
  /** Reached directly by the clients that are not to be cut off. */
  readonly server: TestServer;
  readonly proxy: FaultProxy;
  /** `servers` through the proxy. */
  readonly through: Array<[string, number]>;
  /** A client of the current test: closed after it even when it fails, so a failure leaks nothing. */
  newClient(options: ConstructorParameters<typeof DflockdClient>[0]): DflockdClient;
}

/**
 * Registers the hooks of a spec that cuts one client off from the server: before all, a server
 * (any free port) and a FaultProxy to it; after each test, the proxy healed and the test's clients
 * closed; after all, both stopped. The fields are set once the beforeAll hook has run.
 */
export function useProxiedServer(options: ServerOptions): ProxiedServer {
  const clients: DflockdClient[] = [];
  const env = {
    newClient(clientOptions: ConstructorParameters<typeof DflockdClient>[0]): DflockdClient {
      const client = new DflockdClient(clientOptions);
      clients.push(client);
      return client;
    },
  } as { -readonly [K in keyof ProxiedServer]: ProxiedServer[K] };
  beforeAll(async () => {
    env.server = await startServer(options);
    env.proxy = new FaultProxy({ target: { host: '127.0.0.1', port: env.server.port } });
    env.through = [['127.0.0.1', await env.proxy.start()]];
  });
  afterEach(async () => {
    env.proxy.heal();
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await env.proxy.stop();
    await env.server.stop();
  });
  return env;
}

trackClientTimers();

/**
 * After `client.close()`: no socket to `port` may remain (bounded wait for sockets already
 * closing to finish), and no timer created by the client's code may still keep the process alive.
 */
export async function expectNoLeaks(port: number, exclude?: ReadonlySet<net.Socket>): Promise<void> {
  // A timeout here is not the failure: the assertion below is, and it names the sockets left.
  await eventually(() => socketsTo(port, exclude).length === 0, `no socket to port ${port}`, { timeoutMs: 3000 }).catch(() => undefined);
  expect(socketsTo(port, exclude).map((s) => `${s.localPort}->${s.remotePort}`)).toEqual([]);
  expect(liveClientTimers()).toEqual([]);
}

/** Everything a client reported on events$, with a monotonic timestamp each. */
export function recordEvents(client: DflockdClient): Array<{ t: number; event: ClientEvent }> {
  const out: Array<{ t: number; event: ClientEvent }> = [];
  client.events$.subscribe((event) => out.push({ t: performance.now(), event }));
  return out;
}

/** One request the fake server read: the three lines. */
export interface FakeRequest {
  readonly cmd: string;
  readonly key: string;
  readonly arg: string;
}

/** What the fake server does with a request: write bytes (or nothing), then maybe close. */
export interface FakeAction {
  readonly write?: string | Buffer;
  /** `'end'`: FIN after the write. */
  readonly close?: 'end';
}

/** One connection to the fake server. */
export interface FakeConnection {
  readonly index: number;
  readonly requests: FakeRequest[];
  /** Resolves when the client closed or reset its side. */
  readonly closedByClient: Promise<void>;
  /** True once the client ended or destroyed the socket. */
  clientGone: boolean;
}

/**
 * A scripted line server over node:net (not a mock of net): reads 3-line requests and answers
 * each with whatever the script says, so a test can make a "server" send lines dflockd never would.
 */
export class FakeServer {
  readonly connections: FakeConnection[] = [];
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(script: (request: FakeRequest, connection: FakeConnection) => FakeAction) {
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      let gone!: () => void;
      const conn: FakeConnection = {
        index: this.connections.length,
        requests: [],
        closedByClient: new Promise<void>((resolve) => (gone = resolve)),
        clientGone: false,
      };
      this.connections.push(conn);
      const markGone = (): void => {
        conn.clientGone = true;
        gone();
      };
      socket.once('end', markGone);
      socket.once('close', () => {
        this.sockets.delete(socket);
        markGone();
      });
      let buffer = '';
      const lines: string[] = [];
      socket.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let nl = buffer.indexOf('\n');
        while (nl !== -1) {
          lines.push(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 1);
          nl = buffer.indexOf('\n');
        }
        while (lines.length >= 3 && !socket.destroyed) {
          const [cmd, key, arg] = lines.splice(0, 3) as [string, string, string];
          const request = { cmd, key, arg };
          conn.requests.push(request);
          const action = script(request, conn);
          if (action.write !== undefined) socket.write(action.write);
          if (action.close === 'end') socket.end();
        }
      });
    });
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

/** A plausible dflockd token. */
export function fakeToken(n: number): string {
  return n.toString(16).padStart(32, '0');
}

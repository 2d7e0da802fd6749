// One DflockdTestServer per describe block: started on a free port before its
// tests, every raw client closed after each test, the server stopped after all.
import { DflockdTestServer, type DflockdTestServerOptions } from '../../../lib/testing/server/test-server';
import { RawClient, statsOf } from './raw-client';

export interface Fixture {
  readonly server: DflockdTestServer;
  readonly port: number;
  /** A new raw TCP client. */
  connect(): Promise<RawClient>;
  /** `stats` over a fresh connection, parsed. */
  stats(): Promise<ReturnType<typeof statsOf>>;
}

/**
 * Starts one server for the enclosing describe. With `concurrent` (for
 * `test.concurrent` blocks, whose afterEach hooks overlap other tests) clients
 * are only closed after all tests.
 */
export function useServer(options: DflockdTestServerOptions = {}, { concurrent = false } = {}): Fixture {
  let server: DflockdTestServer | undefined;
  let port = 0;
  beforeAll(async () => {
    server = new DflockdTestServer({ port: 0, ...options });
    port = await server.start();
  });
  if (!concurrent) afterEach(() => RawClient.closeAll());
  afterAll(async () => {
    await RawClient.closeAll();
    await server?.stop();
  });
  const fixture: Fixture = {
    get server() {
      return server!;
    },
    get port() {
      return port;
    },
    connect: () => RawClient.connect(port),
    async stats() {
      const c = await RawClient.connect(port);
      try {
        return statsOf(await c.request('stats', '_', ''));
      } finally {
        await c.destroy();
      }
    },
  };
  return fixture;
}

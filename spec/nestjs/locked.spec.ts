import 'reflect-metadata';
import { once, EventEmitter } from 'node:events';
import type * as net from 'node:net';
import { Controller, Get, type INestApplication, Module, NotFoundException, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Observable, type Subscription, defer, filter, firstValueFrom, map, timer } from 'rxjs';
import { DflockdClient } from 'dflockd-rx';
import { DFLOCKD_CLIENT, DFLOCKD_MODULE_OPTIONS, DflockdModule, Locked } from 'dflockd-rx/nestjs';
import { type TestServer, startServer } from '../helpers/server.js';

// Constructor injection by type below relies on emitDecoratorMetadata (tsconfig.json), as in
// any Nest application. What the handlers did, for the assertions: times and unsubscriptions.
const probe = new EventEmitter();
const runs: Array<{ id: string; start: number; end?: number }> = [];

@Controller()
class WorkController {
  constructor(private readonly client: DflockdClient) {}

  /** ~300 ms of Observable work under the lock `work`. */
  @Get('work/:id')
  @Locked('work')
  work(@Param('id') id: string): Observable<{ id: string }> {
    return defer(() => {
      const run: { id: string; start: number; end?: number } = { id, start: performance.now() };
      runs.push(run);
      return timer(300).pipe(
        map(() => {
          run.end = performance.now();
          return { id };
        }),
      );
    });
  }

  /** Never completes by itself: only a lost lease (or the client going away) ends it. */
  @Get('forever')
  @Locked('forever')
  forever(): Observable<string> {
    return new Observable<string>(() => {
      probe.emit('forever-started');
      return () => probe.emit('forever-unsubscribed');
    });
  }

  @Get('busy')
  @Locked('busy', { acquireTimeoutS: 0 })
  busy(): string {
    return 'got it';
  }

  /** The key comes from the request; the handler reports what the server holds meanwhile. */
  @Get('order/:id')
  @Locked((ctx) => `order:${ctx.switchToHttp().getRequest<{ params: { id: string } }>().params.id}`)
  order(): Observable<string[]> {
    return this.client.stats(0).pipe(map((s) => s.locks.map((l) => l.key)));
  }

  @Get('missing')
  @Locked('missing')
  missing(): never {
    throw new NotFoundException('no such thing');
  }
}

async function createApp(server: TestServer): Promise<{ app: INestApplication; url: string }> {
  @Module({ imports: [DflockdModule.forRoot({ servers: server.servers })], controllers: [WorkController] })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as net.Server).address() as net.AddressInfo;
  return { app, url: `http://127.0.0.1:${port}` };
}

describe('@Locked() in a real Nest application', () => {
  let server: TestServer;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    server = await startServer();
    ({ app, url } = await createApp(server));
  });
  afterAll(async () => {
    await app.close();
    await server.stop();
  });

  test('two concurrent requests are served one after the other: the second starts after the first Observable completed', async () => {
    runs.length = 0;
    const [a, b] = await Promise.all([fetch(`${url}/work/a`), fetch(`${url}/work/b`)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect([await a.json(), await b.json()]).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect(runs).toHaveLength(2);
    const [first, second] = [...runs].sort((x, y) => x.start - y.start) as [(typeof runs)[0], (typeof runs)[0]];
    expect(first.end).toBeDefined();
    // Held until the first handler's Observable completed, not merely until the method returned.
    expect(second.start).toBeGreaterThanOrEqual(first.end!);
    expect(second.end! - first.start).toBeGreaterThanOrEqual(600);
  });

  test('the key may come from the request, and is held while the handler runs', async () => {
    const res = await fetch(`${url}/order/42`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(['order:42']);
  });

  test('an acquire timeout is 423 Locked; the handler does not run', async () => {
    const holder = new DflockdClient({ servers: server.servers });
    let sub: Subscription | undefined;
    await new Promise<void>((resolve, reject) => {
      sub = holder.lock('busy').subscribe({ next: (e) => e.type === 'acquired' && resolve(), error: reject });
    });
    try {
      const res = await fetch(`${url}/busy`);
      expect(res.status).toBe(423);
      expect(await res.json()).toMatchObject({ statusCode: 423, error: 'Locked' });
    } finally {
      sub?.unsubscribe();
      await holder.close();
    }
    const res = await fetch(`${url}/busy`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('got it');
  });

  test("the handler's own errors pass through untouched, and release the lock", async () => {
    const client = app.get(DflockdClient);
    const released = firstValueFrom(client.events$.pipe(filter((e) => e.type === 'released' && e.key === 'missing')));
    const res = await fetch(`${url}/missing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ message: 'no such thing' });
    await released;
  });
});

describe('@Locked() when the lease is lost', () => {
  test("stopping the server mid-request unsubscribes the handler's Observable and fails the request with 503", async () => {
    const server = await startServer();
    const { app, url } = await createApp(server);
    try {
      const started = once(probe, 'forever-started');
      const unsubscribed = once(probe, 'forever-unsubscribed');
      const response = fetch(`${url}/forever`);
      await started;
      await server.stop();
      await unsubscribed;
      const res = await response;
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ statusCode: 503 });
    } finally {
      await app.close();
    }
  });
});

describe('DflockdModule', () => {
  test('forRootAsync builds the client from a factory with injected providers; app.close() closes the client', async () => {
    const server = await startServer();
    @Module({ providers: [{ provide: 'DFLOCKD_PORT', useValue: server.port }], exports: ['DFLOCKD_PORT'] })
    class ConfigModule {}
    @Module({
      imports: [
        DflockdModule.forRootAsync({
          imports: [ConfigModule],
          inject: ['DFLOCKD_PORT'],
          useFactory: async (port: number) => ({ servers: [`127.0.0.1:${port}`] }),
        }),
      ],
    })
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger: false });
    await app.init();
    try {
      const client = app.get(DflockdClient);
      expect(app.get(DFLOCKD_CLIENT)).toBe(client);
      expect(app.get(DFLOCKD_MODULE_OPTIONS)).toEqual({ servers: [`127.0.0.1:${server.port}`] });
      // Something held at shutdown must be released by it.
      let lease: Subscription | undefined;
      await new Promise<void>((resolve, reject) => {
        lease = client.lock('held-at-shutdown').subscribe({ next: (e) => e.type === 'acquired' && resolve(), error: reject });
      });
      expect((await server.stats()).locks.map((l) => l.key)).toEqual(['held-at-shutdown']);
      await app.close();
      expect(lease?.closed).toBe(true);
      await expect(firstValueFrom(client.lock('after-close'))).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
      // close() resolves once the releases were acknowledged.
      expect((await server.stats()).locks).toEqual([]);
    } finally {
      await app.close();
      await server.stop();
    }
  });
});

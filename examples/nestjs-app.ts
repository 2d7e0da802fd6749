// A NestJS application whose report route runs under a dflockd lock: `@Locked()` holds the lock
// until the handler's Observable completes, so two concurrent requests run one after the other.
// Runs against DFLOCKD_SERVERS, or an embedded DflockdTestServer on a free port; it sends two
// requests to itself and exits. Build, then: `node build/examples/nestjs-app.js`.
import 'reflect-metadata';
import type * as net from 'node:net';
import { Controller, Get, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Observable, defer, map, timer } from 'rxjs';
import { DflockdClient } from 'dflockd-rx';
import { DflockdModule, Locked } from 'dflockd-rx/nestjs';
import { DflockdTestServer } from 'dflockd-rx/testing';

const t0 = performance.now();
const log = (what: string): void => console.log(`${((performance.now() - t0) / 1000).toFixed(3)}s  ${what}`);

@Controller('reports')
class ReportsController {
  // Injected by type (emitDecoratorMetadata), like any Nest provider.
  constructor(private readonly locks: DflockdClient) {}

  /** One report build at a time across every instance of this service; others wait up to 5 s (then 423). */
  @Get(':name')
  @Locked('reports', { acquireTimeoutS: 5, leaseTtlS: 10 })
  build(@Param('name') name: string): Observable<{ name: string; pages: number }> {
    return defer(() => {
      log(`building ${name}…`);
      // If the lease were lost, this timer would be unsubscribed and the request answered 503.
      return timer(500).pipe(
        map(() => {
          log(`built ${name}`);
          return { name, pages: 42 };
        }),
      );
    });
  }

  /** Whatever the servers hold right now (the injected client is the one @Locked uses). */
  @Get()
  held(): Observable<string[]> {
    return this.locks.stats(0).pipe(map((s) => s.locks.map((l) => l.key)));
  }
}

async function main(): Promise<void> {
  let server: DflockdTestServer | undefined;
  let servers = process.env['DFLOCKD_SERVERS']?.split(',');
  if (servers === undefined) {
    server = new DflockdTestServer({ port: 0 });
    servers = [`127.0.0.1:${await server.start()}`];
  }

  @Module({ imports: [DflockdModule.forRoot({ servers })], controllers: [ReportsController] })
  class AppModule {}

  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as net.Server).address() as net.AddressInfo;
  log(`listening on http://127.0.0.1:${port}`);

  const get = async (path: string): Promise<unknown> => (await fetch(`http://127.0.0.1:${port}${path}`)).json();
  const [a, b] = await Promise.all([get('/reports/weekly'), get('/reports/monthly')]);
  log(`responses: ${JSON.stringify(a)} ${JSON.stringify(b)} — built one after the other`);

  await app.close(); // DflockdModule closes the client: anything still held is released
  await server?.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

// Low level: a socket as a line Observable, and one function per wire command.
import { connectLineSocket, lock, release } from 'dflockd-rx';
import { concatMap, firstValueFrom, switchMap } from 'rxjs';
import { servers } from './servers.js';

async function main(): Promise<void> {
  const [host, port] = servers[0]!.split(':');
  // The socket lives as long as the subscription: firstValueFrom ends it after the release.
  const reply = await firstValueFrom(
    connectLineSocket({ host: host!, port: Number(port) }).pipe(
      switchMap((socket) =>
        lock(socket, 'orders', { acquireTimeoutS: 0 }).pipe(
          concatMap(({ token }) => {
            console.log('l granted', token);
            return release(socket, 'orders', token);
          }),
        ),
      ),
    ),
  );
  console.log('r answered', reply.kind);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

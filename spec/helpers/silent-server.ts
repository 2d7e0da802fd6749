import * as net from 'node:net';

/** A TCP server on 127.0.0.1 that accepts connections, reads what it is sent, and never answers. */
export interface SilentServer {
  readonly port: number;
  /** Destroys every accepted socket and closes the listener. */
  close(): Promise<void>;
}

/**
 * Starts a {@link SilentServer} on a free port: for "nobody answers" — requests stay in flight
 * until the client's own bound gives them up. Always `close()` it.
 */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

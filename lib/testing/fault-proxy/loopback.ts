import * as net from 'node:net';

const loopback = new net.BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/**
 * Whether `host` names this machine only: `localhost`, 127.0.0.0/8, `::1`, or
 * an IPv4-mapped 127.x address.
 *
 * @internal
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost') return true;
  const family = net.isIP(h);
  // BlockList matches ::ffff:127.x.x.x against the IPv4 subnet itself.
  return family === 4 ? loopback.check(h, 'ipv4') : family === 6 ? loopback.check(h, 'ipv6') : false;
}

/**
 * Throws unless `host` is loopback: a fault proxy that could reach or be
 * reached from the network is a tool for something other than tests.
 *
 * @internal
 */
export function assertLoopbackHost(host: unknown, option: string): string {
  if (typeof host !== 'string' || !isLoopbackHost(host)) {
    throw new RangeError(
      `FaultProxy: ${option} must be a loopback host (localhost, 127.0.0.0/8 or ::1), got ${JSON.stringify(host)}`,
    );
  }
  return host;
}

/** @internal */
export function assertPort(port: unknown, option: string, min: number): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < min || port > 65535) {
    throw new RangeError(`FaultProxy: ${option} must be an integer from ${min} to 65535, got ${String(port)}`);
  }
  return port;
}

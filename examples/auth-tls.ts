// Authentication and TLS: the token goes first on every connection; TLS verifies the server.
import { readFileSync } from 'node:fs';
import { DistributedLock } from 'dflockd-rx';
import { servers } from './servers.js';

async function main(): Promise<void> {
  const ca = process.env['DFLOCKD_TLS_CA'];
  const lock = new DistributedLock('my-key', {
    servers,
    authToken: process.env['DFLOCKD_AUTH_TOKEN'] ?? 'mysecret',
    // Verification stays on: give the CA that signed the server's certificate (system CAs otherwise).
    ...(ca ? { tls: { ca: readFileSync(ca) } } : {}),
  });
  await lock.withLock(async () => console.log('holding', lock.token, 'lease', lock.lease));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

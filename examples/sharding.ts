// Multi-server sharding: each key lives on one server, picked by CRC-32 like every dflockd client.
import { DflockdClient, stableHashShard } from 'dflockd-rx';
import { servers } from './servers.js';

async function main(): Promise<void> {
  const client = new DflockdClient({
    servers, // e.g. ['10.0.0.1:6388', '10.0.0.2:6388', '10.0.0.3:6388']
    shardingStrategy: stableHashShard, // the default; any (key, n) => index works
  });
  for (const key of ['my-resource', 'user:42', 'orders']) console.log(key, '→ server', client.serverFor(key));
  await client.withLock('orders', async () => console.log('orders locked on', servers[client.serverFor('orders')]));
  await client.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

/**
 * Bench scenario (f): `DflockdHttpClient` against a raw `fetch` loop, in one run, on the test
 * server's HTTP API (an in-process `DflockdTestServer` on 127.0.0.1, free ports).
 *
 * One worker, one key, a lock/release cycle at a time. The raw loop is the least a program can
 * do: one session, then `POST /v1/locks/{key}` and `POST …/release`, each awaited. The client
 * does what a user writes: `client.lock(key)`, take the first `acquired`, unsubscribe, and wait
 * for `events$` to confirm the release before the next cycle. Rounds alternate (raw, client,
 * raw, …) so a slow spell of the machine hits both; the report gives each side's median cycle
 * and the ratio raw ÷ client (the client's share of the raw loop's throughput; target ≥ 0.9).
 *
 * `npm run bench:http -- [--cycles N] [--rounds R] [--max-seconds S]`
 *
 * @module
 */
import { firstValueFrom, filter, take } from 'rxjs';
import { DflockdHttpClient } from 'dflockd-rx/http';
import { DflockdTestServer } from 'dflockd-rx/testing';

interface Settings {
  readonly cycles: number;
  readonly rounds: number;
  readonly maxSeconds: number;
}

const TARGET = 0.9;
const WARM_UP = 100;

function parseArgs(argv: readonly string[]): Settings {
  const values: Record<string, number> = { cycles: 1000, rounds: 6, 'max-seconds': 180 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const name = flag.replace(/^--/, '');
    if (!flag.startsWith('--') || !(name in values)) throw new Error(`bench-http: unknown argument ${flag} (flags: --cycles N, --rounds R, --max-seconds S)`);
    const value = Number(argv[++i]);
    if (!Number.isInteger(value) || value < 1) throw new Error(`bench-http: ${flag} wants a positive integer (got ${String(argv[i])})`);
    values[name] = value;
  }
  return { cycles: values['cycles']!, rounds: values['rounds']!, maxSeconds: values['max-seconds']! };
}

/** A side of the comparison: runs one lock/release cycle. */
type Cycle = () => Promise<void>;

/** The raw loop: one session, then acquire and release with plain fetch calls. */
async function rawCycle(url: string, key: string): Promise<{ cycle: Cycle; close(): Promise<void> }> {
  const created = await fetch(`${url}/v1/sessions`, { method: 'POST' });
  const { session_id: session } = (await created.json()) as { session_id: string };
  const headers = { 'Content-Type': 'application/json', 'X-Dflockd-Session': session };
  const path = `${url}/v1/locks/${encodeURIComponent(key)}`;
  return {
    async cycle() {
      const acquired = await fetch(path, { method: 'POST', headers, body: JSON.stringify({ acquire_timeout_s: 10 }) });
      const body = (await acquired.json()) as { status: string; token?: string };
      if (acquired.status !== 200 || body.status !== 'ok') throw new Error(`raw acquire answered ${acquired.status} ${JSON.stringify(body)}`);
      const released = await fetch(`${path}/release`, { method: 'POST', headers, body: JSON.stringify({ token: body.token }) });
      await released.arrayBuffer();
      if (released.status !== 204) throw new Error(`raw release answered ${released.status}`);
    },
    async close() {
      await (await fetch(`${url}/v1/sessions/${session}`, { method: 'DELETE' })).arrayBuffer();
    },
  };
}

/** The client: lock(), first `acquired`, unsubscribe, the release confirmed on `events$`. */
function clientCycle(client: DflockdHttpClient, key: string): Cycle {
  return async () => {
    const confirmed = firstValueFrom(client.events$.pipe(filter((e) => (e.type === 'released' || e.type === 'release-failed') && e.key === key)));
    await firstValueFrom(client.lock(key, { acquireTimeoutS: 10 }).pipe(filter((e) => e.type === 'acquired'), take(1)));
    // take(1) has unsubscribed: that is the release.
    const event = await confirmed;
    if (event.type !== 'released') throw new Error(`client release failed: ${JSON.stringify(event)}`);
  };
}

async function timeCycles(cycle: Cycle, count: number, deadline: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const start = performance.now();
    await cycle();
    samples.push(performance.now() - start);
  }
  return samples;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const us = (ms: number): string => `${Math.round(ms * 1000)} µs`;

async function main(): Promise<void> {
  const settings = parseArgs(process.argv.slice(2));
  const server = new DflockdTestServer({ port: 0, host: '127.0.0.1', httpPort: 0 });
  await server.start();
  const url = server.httpUrl!;
  const client = new DflockdHttpClient({ url });
  const raw = await rawCycle(url, 'bench-f-raw');
  const sides: Array<[string, Cycle, number[]]> = [
    ['raw fetch loop', raw.cycle, []],
    ['DflockdHttpClient', clientCycle(client, 'bench-f-client'), []],
  ];
  const deadline = performance.now() + settings.maxSeconds * 1000;
  try {
    for (const [, cycle] of sides) await timeCycles(cycle, WARM_UP, deadline);
    const perRound: string[] = [];
    for (let round = 0; round < settings.rounds && performance.now() < deadline; round++) {
      // Alternate which side goes first, so neither always runs on a warmer machine.
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      const medians: Record<string, number> = {};
      for (const [name, cycle, all] of order) {
        const samples = await timeCycles(cycle, settings.cycles, deadline);
        all.push(...samples);
        medians[name] = median(samples);
      }
      perRound.push(`  round ${round + 1}: raw ${us(medians['raw fetch loop']!)}, client ${us(medians['DflockdHttpClient']!)}`);
    }
    const [rawAll, clientAll] = [sides[0]![2], sides[1]![2]];
    const ratio = median(rawAll) / median(clientAll);
    const lines = [
      `(f) HTTP API: lock/release cycle on one key, one worker (${rawAll.length} raw and ${clientAll.length} client cycles, ${settings.rounds} alternating rounds)`,
      ...perRound,
      ...sides.map(([name, , all]) => `  ${name.padEnd(18)} median ${us(median(all))}, p90 ${us(quantile(all, 0.9))}, p99 ${us(quantile(all, 0.99))}`),
      `  ratio raw ÷ client: ${ratio.toFixed(2)}× (target ≥ ${TARGET}×: ${ratio >= TARGET ? 'met' : 'NOT met'})`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await raw.close().catch(() => undefined);
    await client.close();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

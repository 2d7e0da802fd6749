/**
 * Scenario (f)'s two drivers over the test server's HTTP API, one worker each, R lock/release
 * cycles per trial. The baseline is the least a program can do with `fetch`: one session, then
 * `POST /v1/locks/{key}` and `POST …/release`, each awaited. The client does what a user
 * writes: `lock(key)`, the first `acquired`, unsubscribe, and the release confirmed on
 * `events$` before the next cycle (as the TCP drivers of (a) wait for their `r` reply).
 *
 * @module
 */
import { filter, firstValueFrom } from 'rxjs';
import type { DflockdHttpClient } from '../../lib/http/index.js';
import { LatencySample } from '../../lib/cli/bench/stats.js';
import type { ThroughputTrial } from './trial.js';

/** Runs `cycle` `rounds` times in a row, timing each; a failed cycle is counted and the loop goes on. */
async function loop(rounds: number, onOp: () => void, cycle: () => Promise<void>): Promise<ThroughputTrial> {
  const latency = new LatencySample(rounds);
  let ops = 0;
  let errors = 0;
  const startedAt = performance.now();
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    try {
      await cycle();
      latency.record(performance.now() - t);
      ops++;
    } catch {
      errors++;
    }
    onOp();
  }
  const elapsedMs = performance.now() - startedAt;
  return { ops, errors, elapsedMs, opsPerS: (ops * 1000) / elapsedMs, latency: latency.summary() };
}

/** The raw `fetch` loop on one session of `url`; `close()` deletes the session. */
export async function rawHttpDriver(url: string, key: string): Promise<{ run(rounds: number, onOp: () => void): Promise<ThroughputTrial>; close(): Promise<void> }> {
  const created = await fetch(`${url}/v1/sessions`, { method: 'POST' });
  const { session_id: session } = (await created.json()) as { session_id: string };
  const headers = { 'Content-Type': 'application/json', 'X-Dflockd-Session': session };
  const path = `${url}/v1/locks/${encodeURIComponent(key)}`;
  const acquireBody = JSON.stringify({ acquire_timeout_s: 10 });
  const cycle = async (): Promise<void> => {
    const acquired = await fetch(path, { method: 'POST', headers, body: acquireBody });
    const body = (await acquired.json()) as { status?: string; token?: string };
    if (acquired.status !== 200 || body.status !== 'ok') throw new Error(`acquire answered ${acquired.status} ${JSON.stringify(body)}`);
    const released = await fetch(`${path}/release`, { method: 'POST', headers, body: JSON.stringify({ token: body.token }) });
    await released.arrayBuffer();
    if (released.status !== 204) throw new Error(`release answered ${released.status}`);
  };
  return {
    run: (rounds, onOp) => loop(rounds, onOp, cycle),
    async close() {
      await (await fetch(`${url}/v1/sessions/${session}`, { method: 'DELETE' })).arrayBuffer();
    },
  };
}

/** The client's loop: one `DflockdHttpClient` (its own session), `lock()` → `acquired` → unsubscribe → `released`. */
export function clientHttpDriver(client: DflockdHttpClient, key: string): { run(rounds: number, onOp: () => void): Promise<ThroughputTrial> } {
  const cycle = async (): Promise<void> => {
    const answered = firstValueFrom(client.events$.pipe(filter((e) => (e.type === 'released' || e.type === 'release-failed') && e.key === key)));
    // firstValueFrom unsubscribes once `acquired` arrives: that unsubscribe is the release.
    await firstValueFrom(client.lock(key, { acquireTimeoutS: 10 }).pipe(filter((e) => e.type === 'acquired')));
    const event = await answered;
    if (event.type !== 'released') throw new Error(`release failed on ${key}`);
  };
  return { run: (rounds, onOp) => loop(rounds, onOp, cycle) };
}

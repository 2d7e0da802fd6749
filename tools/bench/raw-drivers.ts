/**
 * The baseline's workloads for (a)/(d) and (b), over {@link RawConnection}s: one socket per
 * worker, `l key 10` then `r key token`, each waiting for its reply. (b) also has an `e`+`w`
 * variant: the same loop speaking the client's protocol for a contended acquisition.
 *
 * @module
 */

import { RawConnection, grantToken } from './raw-socket.js';
import { LatencySample } from '../../lib/cli/bench/stats.js';
import { HandoffDriver, HandoffTrial, ThroughputDriver, ThroughputTrial, roundLoop, runWorkers } from './trial.js';

/** (a)/(d): worker `i` locks and releases `keys[i]` on `conns[i]`. */
export function rawUncontended(conns: readonly RawConnection[], keys: readonly string[]): ThroughputDriver {
  const lockText = keys.map((key) => `l\n${key}\n10\n`);
  return {
    async run(rounds: number, onOp: () => void): Promise<ThroughputTrial> {
      const sample = new LatencySample(conns.length * rounds);
      let errors = 0;
      const elapsedMs = await runWorkers(conns.length, (i, done) => {
        const conn = conns[i]!;
        const key = keys[i]!;
        const lock = lockText[i]!;
        let startedAt = 0;
        const next = roundLoop(rounds, done, (): void => {
          startedAt = performance.now();
          conn.request(lock, onGrant);
        });
        const onGrant = (line: string | undefined): void => {
          const token = grantToken(line);
          if (token === undefined) {
            errors++;
            next();
            return;
          }
          conn.request(`r\n${key}\n${token}\n`, onReleased);
        };
        const onReleased = (line: string | undefined): void => {
          if (line === 'ok') sample.record(performance.now() - startedAt);
          else errors++;
          onOp();
          next();
        };
        next();
      });
      const ops = sample.count;
      return { ops, errors, elapsedMs, opsPerS: (ops * 1000) / elapsedMs, latency: sample.summary() };
    },
  };
}

/**
 * How a raw (b) worker asks for the lock: `lock` blocks in `l key 10` (the baseline); `enqueue-wait`
 * sends `e key` and `w key 10` in one write and takes the grant from whichever answers with it,
 * as the client does so that its `queued` event is the server's word.
 */
export type RawHandoffProtocol = 'lock' | 'enqueue-wait';

/** (b): every worker contends for `key`, each on its own socket. */
export function rawHandoff(conns: readonly RawConnection[], key: string, protocol: RawHandoffProtocol = 'lock'): HandoffDriver {
  const lock = `l\n${key}\n10\n`;
  const enqueueWait = `e\n${key}\n\nw\n${key}\n10\n`;
  return {
    async run(rounds: number, onOp: () => void): Promise<HandoffTrial> {
      const sample = new LatencySample(conns.length * rounds);
      let errors = 0;
      let acquisitions = 0;
      let releaseSentAt = Number.NEGATIVE_INFINITY;
      const elapsedMs = await runWorkers(conns.length, (i, done) => {
        const conn = conns[i]!;
        let requestedAt = 0;
        const next = roundLoop(rounds, done, (): void => {
          requestedAt = performance.now();
          if (protocol === 'lock') {
            conn.request(lock, onGrant);
            return;
          }
          // `acquired <token> <lease>` at once (then `w` answers `ok` with the same token), or
          // `queued` and the grant comes as the answer to `w`.
          let acquired: string | undefined;
          conn.pipeline(enqueueWait, [
            (line) => {
              if (line !== undefined && line.startsWith('acquired ')) acquired = `ok ${line.slice(9)}`;
            },
            (line) => onGrant(acquired ?? line),
          ]);
        });
        const onGrant = (line: string | undefined): void => {
          const now = performance.now();
          const token = grantToken(line);
          if (token === undefined) {
            errors++;
            next();
            return;
          }
          acquisitions++;
          // Only a worker that was already waiting when the lock was released is a hand-off.
          if (requestedAt < releaseSentAt) sample.record(now - releaseSentAt);
          onOp();
          releaseSentAt = performance.now();
          conn.request(`r\n${key}\n${token}\n`, onReleased);
        };
        const onReleased = (line: string | undefined): void => {
          if (line !== 'ok') errors++;
          next();
        };
        next();
      });
      return { acquisitions, errors, elapsedMs, acquisitionsPerS: (acquisitions * 1000) / elapsedMs, handoff: sample.summary() };
    },
  };
}

import { VirtualTimeScheduler } from 'rxjs';
import type { HttpFetch, HttpFetchInit } from '../../lib/http/index.js';

/** One request the fake server received. */
export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Record<string, unknown> | undefined;
  readonly signal: AbortSignal;
  /** The redirect mode asked for (the client always asks `'error'`). */
  readonly redirect: string;
  readonly at: number;
  /** Answers it (for a request the route left hanging). */
  respond(status: number, body?: unknown): void;
}

/** What a route answers: `[status, body]`, or `'hang'` to leave the request open (answer it later with `respond`). */
export type FakeAnswer = readonly [number, unknown?] | 'hang';

/**
 * A `fetch` double for unit specs on virtual time: every request is recorded with its virtual
 * time and answered by `route` (asynchronously, as a real fetch). Aborting rejects it as fetch does.
 */
export function fakeFetch(scheduler: VirtualTimeScheduler, route: (req: FakeRequest) => FakeAnswer) {
  const requests: FakeRequest[] = [];
  const fetch: HttpFetch = (url: string, init: HttpFetchInit) =>
    new Promise((resolve, reject) => {
      const u = new URL(url);
      let done = false;
      const req: FakeRequest = {
        method: init.method,
        path: u.pathname,
        headers: init.headers,
        body: init.body === undefined ? undefined : (JSON.parse(init.body) as Record<string, unknown>),
        signal: init.signal,
        redirect: init.redirect,
        at: scheduler.now(),
        respond(status, body) {
          if (done) return;
          done = true;
          const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
          resolve({ status, text: () => Promise.resolve(text) });
        },
      };
      init.signal.addEventListener('abort', () => {
        if (done) return;
        done = true;
        reject(init.signal.reason ?? new Error('aborted'));
      });
      requests.push(req);
      const answer = route(req);
      if (answer !== 'hang') queueMicrotask(() => req.respond(answer[0], answer[1]));
    });
  return { fetch, requests };
}

/** Lets promise callbacks (fetch answers) run: a macrotask turn, no timer. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Advances virtual time by `ms` in steps of `stepMs`, letting answers arrive between steps (bounded). */
export async function advance(scheduler: VirtualTimeScheduler, ms: number, stepMs = 100): Promise<void> {
  const target = scheduler.now() + ms;
  for (let i = 0; i < 100_000 && scheduler.now() < target; i++) {
    const next = Math.min(target, scheduler.now() + stepMs);
    scheduler.maxFrames = next;
    scheduler.flush();
    scheduler.frame = next;
    await settle();
  }
}

/** A session route: `POST /v1/sessions` gives ids s1, s2, … with the idle timeout given. */
export function sessionIds(idleTimeoutS = 20) {
  let n = 0;
  return (req: FakeRequest): FakeAnswer | undefined => {
    if (req.method === 'POST' && req.path === '/v1/sessions') return [200, { session_id: `s${++n}`, idle_timeout_s: idleTimeoutS }];
    if (req.path.endsWith('/ping')) return [204];
    if (req.method === 'DELETE') return [204];
    return undefined;
  };
}

/** A token of 32 lowercase hex digits (fence n). */
export const token = (n: number): string => n.toString(16).padStart(16, '0') + 'abcdefabcdefabcd';

/** Bounds of {@link eventually}. */
export interface EventuallyOptions {
  /** How long to keep polling before failing; 3000 ms unless given. */
  readonly timeoutMs?: number;
  /** The pause between two checks; 20 ms unless given. */
  readonly everyMs?: number;
}

/**
 * Polls `check` until it returns true, for server-side effects with no event to await. Bounded in
 * time, not in tries: a check that itself takes long (a stats round trip on a busy machine) counts
 * against `timeoutMs`. The last check runs at the deadline, so a condition that holds by then passes;
 * the error names `what` and how long it waited.
 */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, { timeoutMs = 3000, everyMs = 20 }: EventuallyOptions = {}): Promise<void> {
  const started = performance.now();
  for (;;) {
    if (await check()) return;
    const waited = performance.now() - started;
    if (waited >= timeoutMs) throw new Error(`never happened within ${timeoutMs} ms (waited ${Math.round(waited)} ms): ${what}`);
    await new Promise((r) => setTimeout(r, Math.min(everyMs, timeoutMs - waited)));
  }
}

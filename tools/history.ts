/**
 * A mutual-exclusion history checker. Clients record what they believed and when (monotonic ms
 * of one process); {@link check} finds the moments where more holders believed they held a key
 * than its limit allows. Pure: no I/O, no clock.
 *
 * A holder is one grant: a (key, token) pair. Its claim runs from its `acquired` event to the
 * earliest of its `released` / `lost` event and its last local deadline (`expiresAt` of its last
 * `acquired` / `renewed` event): past that deadline the holder may not believe it holds, whatever
 * it recorded. `released` is recorded when the holder gives the lock up (before the release is
 * sent), not when the server acknowledges it: the next grant may legitimately arrive first.
 *
 * @example
 * ```ts
 * const violations = check(history, { limits: { pool: 3 } });
 * if (violations.length > 0) console.log(violations.map((v) => v.message).join('\n'));
 * ```
 */

/** What a holder observed. */
export type HistoryKind = 'acquired' | 'renewed' | 'lost' | 'released';

/** One observation by one client. */
export interface HistoryEvent {
  /** Who observed it (any label; used in messages). */
  readonly client: string;
  readonly key: string;
  readonly kind: HistoryKind;
  /** The grant's token: with the key, it names the holder. */
  readonly token: string;
  /** When, in monotonic ms (performance.now() of one process). */
  readonly t: number;
  /** The local deadline after this event (`acquired`, `renewed`), monotonic ms. */
  readonly expiresAt?: number;
}

/** The interval during which one holder believed it held its key: `[start, end)`. */
export interface Claim {
  readonly client: string;
  readonly key: string;
  readonly token: string;
  readonly start: number;
  readonly end: number;
  /** What ended the claim. `'open'`: nothing did, and there was no deadline either. */
  readonly endedBy: 'released' | 'lost' | 'deadline' | 'open';
}

/** Something the history shows that must never happen. */
export type Violation =
  | { readonly kind: 'overlap'; readonly key: string; readonly t: number; readonly claims: readonly [Claim, Claim]; readonly message: string }
  | { readonly kind: 'over-limit'; readonly key: string; readonly t: number; readonly limit: number; readonly claims: readonly Claim[]; readonly message: string }
  | { readonly kind: 'malformed'; readonly key: string; readonly t: number; readonly token: string; readonly message: string };

/** Options of {@link check}. */
export interface CheckOptions {
  /** Semaphore limits by key; every other key is a lock (limit 1). */
  readonly limits?: Readonly<Record<string, number>>;
}

/**
 * Builds every holder's claim. Histories that cannot come from a correct recorder (an event
 * before its `acquired`, a token granted twice) are reported as `malformed`.
 */
export function claimsOf(history: readonly HistoryEvent[]): { claims: Claim[]; malformed: Violation[] } {
  const byHolder = new Map<string, HistoryEvent[]>();
  // Stable sort by time: events recorded in the same millisecond keep their recorded order.
  const ordered = history.map((e, i) => ({ e, i })).sort((a, b) => a.e.t - b.e.t || a.i - b.i).map(({ e }) => e);
  for (const event of ordered) {
    const id = `${event.key}\u0000${event.token}`;
    let events = byHolder.get(id);
    if (events === undefined) byHolder.set(id, (events = []));
    events.push(event);
  }
  const claims: Claim[] = [];
  const malformed: Violation[] = [];
  const bad = (e: HistoryEvent, why: string): void => {
    malformed.push({ kind: 'malformed', key: e.key, t: e.t, token: e.token, message: `key "${e.key}" token ${short(e.token)} (${e.client}): ${why}` });
  };
  for (const events of byHolder.values()) {
    const first = events[0]!;
    if (first.kind !== 'acquired') {
      bad(first, `"${first.kind}" at ${ms(first.t)} with no "acquired" before it`);
      continue;
    }
    let deadline = first.expiresAt ?? Infinity;
    let end = Infinity;
    let endedBy: Claim['endedBy'] = 'open';
    for (const e of events.slice(1)) {
      if (e.kind === 'acquired') bad(e, `granted twice (again at ${ms(e.t)}): a token must never be reused`);
      else if (e.kind === 'renewed') {
        // The last deadline counts, even if shorter: the client believes the newest one.
        if (e.expiresAt !== undefined && e.t < end) deadline = e.expiresAt;
      } else if (e.t < end) {
        end = e.t;
        endedBy = e.kind;
      }
    }
    if (deadline < end) {
      end = deadline;
      endedBy = 'deadline';
    }
    claims.push({ client: first.client, key: first.key, token: first.token, start: first.t, end, endedBy });
  }
  return { claims, malformed };
}

/**
 * Checks a history: no two holders of a lock overlap, and no more than `limit` holders of a
 * semaphore overlap. Returns every violation (empty when the history is clean).
 */
export function check(history: readonly HistoryEvent[], options: CheckOptions = {}): Violation[] {
  const { claims, malformed } = claimsOf(history);
  const violations: Violation[] = [...malformed];
  const byKey = new Map<string, Claim[]>();
  for (const claim of claims) {
    // A claim whose deadline had passed before it began held nothing.
    if (claim.end <= claim.start) continue;
    let list = byKey.get(claim.key);
    if (list === undefined) byKey.set(claim.key, (list = []));
    list.push(claim);
  }
  for (const [key, list] of byKey) {
    const limit = options.limits?.[key] ?? 1;
    // Sweep: at equal times an end comes before a start (claims are half-open).
    const points = list.flatMap((c) => [
      { t: c.start, start: true, c },
      { t: c.end, start: false, c },
    ]);
    points.sort((a, b) => a.t - b.t || Number(a.start) - Number(b.start));
    const active = new Set<Claim>();
    for (const p of points) {
      if (!p.start) {
        active.delete(p.c);
        continue;
      }
      if (active.size >= limit) {
        const others = [...active];
        if (limit === 1) {
          const other = others[0]!;
          violations.push({
            kind: 'overlap',
            key,
            t: p.t,
            claims: [other, p.c],
            message: `key "${key}": ${describe(p.c)} acquired at ${ms(p.t)} while ${describe(other)} held it until ${ms(other.end)} (${other.endedBy})`,
          });
        } else {
          violations.push({
            kind: 'over-limit',
            key,
            t: p.t,
            limit,
            claims: [...others, p.c],
            message: `key "${key}" (limit ${limit}): ${active.size + 1} holders at ${ms(p.t)}: ${[...others, p.c].map(describe).join(', ')}`,
          });
        }
      }
      active.add(p.c);
    }
  }
  return violations.sort((a, b) => a.t - b.t);
}

/**
 * How late each `lost` came relative to the holder's last local deadline (ms; > 0 is late).
 * The API promises `lost` no later than the deadline, give or take timer lateness.
 */
export function lossLateness(history: readonly HistoryEvent[]): number[] {
  const deadline = new Map<string, number>();
  const out: number[] = [];
  for (const e of history) {
    const id = `${e.key}\u0000${e.token}`;
    if ((e.kind === 'acquired' || e.kind === 'renewed') && e.expiresAt !== undefined) deadline.set(id, e.expiresAt);
    else if (e.kind === 'lost' && deadline.has(id)) out.push(e.t - deadline.get(id)!);
  }
  return out;
}

function describe(c: Claim): string {
  return `${c.client} (token ${short(c.token)}, from ${ms(c.start)})`;
}

function short(token: string): string {
  return token.length > 10 ? `${token.slice(0, 8)}…` : token;
}

function ms(t: number): string {
  return Number.isFinite(t) ? `${t.toFixed(1)} ms` : '∞';
}

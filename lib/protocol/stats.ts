/** A held (or waited-for) lock in a {@link Stats} snapshot. */
export interface LockStats {
  readonly key: string;
  /** Server-side id of the connection that acquired it; 0 when only waiters exist. */
  readonly ownerConnId: number;
  /** Seconds left on the lease (0 when expired but not yet swept, or when only waiters exist). */
  readonly leaseExpiresInS: number;
  readonly waiters: number;
}

/** A semaphore with holders or waiters in a {@link Stats} snapshot. */
export interface SemaphoreStats {
  readonly key: string;
  readonly limit: number;
  readonly holders: number;
  readonly waiters: number;
}

/** A key with no holders and no waiters, kept until the server's GC removes it. */
export interface IdleStats {
  readonly key: string;
  readonly idleS: number;
}

/** A typed snapshot of one server's `stats` reply. */
export interface Stats {
  /** `host:port` of the server this came from. */
  readonly server: string;
  /** Connections the server is handling, the one that asked included. */
  readonly connections: number;
  readonly locks: readonly LockStats[];
  readonly semaphores: readonly SemaphoreStats[];
  readonly idleLocks: readonly IdleStats[];
  readonly idleSemaphores: readonly IdleStats[];
  /** The JSON object as the server sent it (later versions add fields such as `cluster`). */
  readonly raw: Readonly<Record<string, unknown>>;
}

type Json = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const list = (v: unknown): Json[] => (Array.isArray(v) ? (v.filter((x) => typeof x === 'object' && x !== null) as Json[]) : []);

/** Converts the server's snake_case JSON to {@link Stats}; tolerant of missing or extra fields. */
export function toStats(raw: Json, server: string): Stats {
  return {
    server,
    connections: num(raw['connections']),
    locks: list(raw['locks']).map((l) => ({
      key: str(l['key']),
      ownerConnId: num(l['owner_conn_id']),
      leaseExpiresInS: num(l['lease_expires_in_s']),
      waiters: num(l['waiters']),
    })),
    semaphores: list(raw['semaphores']).map((s) => ({
      key: str(s['key']),
      limit: num(s['limit']),
      holders: num(s['holders']),
      waiters: num(s['waiters']),
    })),
    idleLocks: list(raw['idle_locks']).map((i) => ({ key: str(i['key']), idleS: num(i['idle_s']) })),
    idleSemaphores: list(raw['idle_semaphores']).map((i) => ({ key: str(i['key']), idleS: num(i['idle_s']) })),
    raw,
  };
}

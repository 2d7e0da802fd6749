/**
 * Which keys a server recently said were busy, so the next acquisition of such a key joins the
 * queue at once instead of spending a try-lock round trip the key would refuse anyway. One per
 * server, kept by the client; bounded in keys and in age.
 */
export class ContendedKeys {
  private readonly marked = new Map<string, number>();

  /**
   * @param now the client's clock (ms)
   * @param ageMs how long a mark lasts
   * @param maxKeys how many keys are remembered (the oldest marked is forgotten first)
   */
  constructor(
    private readonly now: () => number,
    private readonly ageMs = 1_000,
    private readonly maxKeys = 1_024,
  ) {}

  /** Whether the server said `key` was busy within the last `ageMs`. `now`: a reading the caller just took. */
  has(key: string, now = this.now()): boolean {
    const at = this.marked.get(key);
    if (at === undefined) return false;
    if (now - at < this.ageMs) return true;
    this.marked.delete(key);
    return false;
  }

  /** The server said `key` is busy (a try-lock refused, or an enqueue queued). */
  mark(key: string): void {
    // A key already marked keeps its place (set() updates in place; delete-then-set would leave a
    // hole per call and rehash the map every few calls): the bound evicts the oldest marked first.
    if (!this.marked.has(key) && this.marked.size >= this.maxKeys) this.marked.delete(this.marked.keys().next().value!);
    this.marked.set(key, this.now());
  }

  /** The key was granted at once: it is not busy. */
  clear(key: string): void {
    this.marked.delete(key);
  }
}

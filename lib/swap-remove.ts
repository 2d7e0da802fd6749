/**
 * Removing from an unordered list whose members know their index: the last member moves into
 * the hole, so removal is O(1) and the array never shrinks or rehashes. Used by the timer wheel,
 * the client's registry of running acquisitions and a connection's holders.
 *
 * @module
 * @internal
 */

/**
 * Removes `list[index]` by moving the last member into its place (order is not kept). Returns
 * the member that moved — the caller records its new index, `index` — or `undefined` when the
 * removed member was the last one.
 * @internal
 */
export function swapRemove<T>(list: T[], index: number): T | undefined {
  const last = list.pop()!;
  if (index === list.length) return undefined;
  list[index] = last;
  return last;
}

/**
 * A small least-recently-used cache of computed values. Policy decisions about an operation are
 * pure functions of (policy version, consumer view, operation), and partners repeat operations,
 * so each is computed once and then looked up.
 */
export class LruCache<Value> {
  private readonly entries = new Map<string, Value>();
  private readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get(key: string, compute: () => Value): Value {
    const cached = this.entries.get(key);
    if (cached !== undefined) {
      // Re-inserting moves the entry to the newest end of the Map's order.
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    const value = compute();
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return value;
  }
}

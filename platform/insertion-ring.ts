// The keys a bounded memory holds, oldest first out: a ring of the last `capacity` keys added.
// Why not the Map's own order (`map.keys().next()` for the oldest): V8 leaves a deleted entry in
// place until the table is rebuilt, and every new iterator walks over those holes from the start,
// so evicting that way from a full 200 000-key Map cost about 80 µs a key, paid by every call a
// service answered once its ledger was full (docs/benchmarks.md#job-status-at-a-full-bucket-make-bench-status).
export class InsertionRing {
  readonly #keys: Array<string | undefined>;
  #next = 0;
  readonly capacity: number;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`an insertion ring holds at least one key, not ${capacity}`);
    this.capacity = capacity;
    this.#keys = new Array<string | undefined>(capacity);
  }

  /** Adds a key the caller does not hold yet; returns the oldest key, which the caller must now forget, once full. */
  push(key: string): string | undefined {
    const out = this.#keys[this.#next];
    this.#keys[this.#next] = key;
    this.#next = (this.#next + 1) % this.capacity;
    return out;
  }
}

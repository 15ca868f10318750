// A bounded cache keyed by two keys (e.g. address, then user agent) without building a key string per lookup. Two
// generations, as hashlru: when the current one holds `generation` entries it becomes the older one (the oldest is
// dropped), and an entry found in the older one is copied back, so what is in use survives the turnover.
export class TwoGenerationCache<K1, K2, V> {
  #current = new Map<K1, Map<K2, V>>();
  #older = new Map<K1, Map<K2, V>>();
  #count = 0;

  constructor(private readonly generation: number) {}

  get(k1: K1, k2: K2): V | undefined {
    const v = this.#current.get(k1)?.get(k2);
    if (v !== undefined) return v;
    const old = this.#older.get(k1)?.get(k2);
    if (old !== undefined) this.set(k1, k2, old);
    return old;
  }

  set(k1: K1, k2: K2, value: V): void {
    let inner = this.#current.get(k1);
    if (inner === undefined || !inner.has(k2)) {
      if (this.#count >= this.generation) {
        this.#older = this.#current;
        this.#current = new Map();
        this.#count = 0;
        inner = undefined;
      }
      this.#count++;
    }
    if (inner === undefined) {
      inner = new Map();
      this.#current.set(k1, inner);
    }
    inner.set(k2, value);
  }
}

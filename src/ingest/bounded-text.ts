// A piece of text gathered from chunks, with a cap: past the cap it stops keeping (so one endless line or
// element cannot exhaust memory) but keeps counting, so the error can say how large the piece was.
export class BoundedText {
  #parts: string[] = [];
  #length = 0;
  #seen = 0;
  #overflow = false;

  constructor(private readonly max: number) {}

  append(s: string): void {
    this.#seen += s.length;
    if (this.#overflow) return;
    if (this.#length + s.length > this.max) {
      this.#overflow = true;
      this.#parts = [];
      this.#length = 0;
      return;
    }
    this.#parts.push(s);
    this.#length += s.length;
  }

  /** something is held (or was, before it overflowed) */
  get pending(): boolean {
    return this.#length > 0 || this.#overflow;
  }

  get overflow(): boolean {
    return this.#overflow;
  }

  /** characters appended since the last take, kept or not */
  get seen(): number {
    return this.#seen;
  }

  /** The text held (undefined after an overflow) and how much was seen; starts afresh. */
  take(): { text?: string; seen: number } {
    const out: { text?: string; seen: number } = { seen: this.#seen };
    if (!this.#overflow) out.text = this.#parts.length === 1 ? this.#parts[0]! : this.#parts.join('');
    this.#parts = [];
    this.#length = 0;
    this.#seen = 0;
    this.#overflow = false;
    return out;
  }
}

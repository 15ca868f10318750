// Incremental line splitter: text arrives in chunks of any size and boundaries; lines come out whole, numbered,
// with a bound on how much one line may hold, so a file with no newline cannot exhaust memory.

export type SplitLine = { line: number; text: string } | { line: number; tooLarge: true; length: number };

export class LineSplitter {
  #parts: string[] = [];
  #length = 0;
  /** characters of the current line, counted even after it overflowed (for the error message) */
  #seen = 0;
  #overflow = false;
  #lineNo = 0;

  constructor(private readonly maxLineChars: number) {}

  /** Lines completed by this chunk. The text after the last newline waits for the next chunk or `end()`. */
  push(chunk: string): SplitLine[] {
    const out: SplitLine[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl === -1) {
        if (start < chunk.length) this.#append(chunk.slice(start));
        return out;
      }
      this.#append(chunk.slice(start, nl));
      out.push(this.#take());
      start = nl + 1;
    }
  }

  /** The last line, if the input did not end with a newline. */
  end(): SplitLine[] {
    return this.#length > 0 || this.#overflow ? [this.#take()] : [];
  }

  /** Whether a partial line is waiting for its newline. */
  get pending(): boolean {
    return this.#length > 0 || this.#overflow;
  }

  get linesSeen(): number {
    return this.#lineNo;
  }

  #append(s: string): void {
    this.#seen += s.length;
    if (this.#overflow) return;
    if (this.#length + s.length > this.maxLineChars) {
      // Keep counting, stop keeping: the line is reported as too large when its newline arrives.
      this.#overflow = true;
      this.#parts = [];
      this.#length = 0;
      return;
    }
    this.#parts.push(s);
    this.#length += s.length;
  }

  #take(): SplitLine {
    this.#lineNo++;
    const line = this.#lineNo;
    const seen = this.#seen;
    const overflow = this.#overflow;
    let text = this.#parts.length === 1 ? this.#parts[0]! : this.#parts.join('');
    this.#parts = [];
    this.#length = 0;
    this.#seen = 0;
    this.#overflow = false;
    if (overflow) return { line, tooLarge: true, length: seen };
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return { line, text };
  }
}

// Incremental line splitter: text arrives in chunks of any size and boundaries; lines come out whole, numbered,
// with a bound on how much one line may hold, so a file with no newline cannot exhaust memory.

import { BoundedText } from './bounded-text.js';

export type SplitLine = { line: number; text: string } | { line: number; tooLarge: true; length: number };

export class LineSplitter {
  readonly #current: BoundedText;
  #lineNo = 0;

  constructor(maxLineChars: number) {
    this.#current = new BoundedText(maxLineChars);
  }

  /** Lines completed by this chunk. The text after the last newline waits for the next chunk or `end()`. */
  push(chunk: string): SplitLine[] {
    const out: SplitLine[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl === -1) {
        if (start < chunk.length) this.#current.append(chunk.slice(start));
        return out;
      }
      this.#current.append(chunk.slice(start, nl));
      out.push(this.#take());
      start = nl + 1;
    }
  }

  /** The last line, if the input did not end with a newline. */
  end(): SplitLine[] {
    return this.#current.pending ? [this.#take()] : [];
  }

  /** Whether a partial line is waiting for its newline. */
  get pending(): boolean {
    return this.#current.pending;
  }

  get linesSeen(): number {
    return this.#lineNo;
  }

  #take(): SplitLine {
    this.#lineNo++;
    const line = this.#lineNo;
    // An overflowed line is reported as too large when its newline arrives.
    const { text, seen } = this.#current.take();
    if (text === undefined) return { line, tooLarge: true, length: seen };
    return { line, text: text.endsWith('\r') ? text.slice(0, -1) : text };
  }
}

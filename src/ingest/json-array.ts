// Incremental splitter for a top-level JSON array: `[ {...}, {...}, ... ]` arriving in chunks comes out as the raw
// text of each element, so a vendor export of any size is read with memory bounded by its largest element.
// It only finds element boundaries (strings, escapes, nesting); each element is then parsed with JSON.parse, so a
// malformed element is one bad record and the elements around it still count.
import { BoundedText } from './bounded-text.js';

export type ArrayPiece =
  | { line: number; text: string }
  | { line: number; tooLarge: true; length: number }
  | { line: number; error: string };

const enum S {
  /** before the opening bracket */
  Before,
  /** inside the array, between elements */
  Between,
  /** inside an object or array element (depth > 0), outside strings */
  Nested,
  /** inside a string, in an element at any depth */
  Str,
  /** right after a backslash inside a string */
  Escape,
  /** a bare scalar element: number, true, false, null */
  Scalar,
  /** after the closing bracket */
  After,
  /** unexpected data after the array: reported once, the rest is not read as records */
  Garbage,
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

export class JsonArraySplitter {
  #state: S = S.Before;
  #depth = 0;
  /** whether the current string is the whole element (a top-level string) */
  #strIsElement = false;
  readonly #element: BoundedText;
  #line = 1;
  #elementLine = 1;

  constructor(maxElementChars: number) {
    this.#element = new BoundedText(maxElementChars);
  }

  push(chunk: string): ArrayPiece[] {
    const out: ArrayPiece[] = [];
    let segStart = this.#inElement() ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === 0x0a) this.#line++;
      switch (this.#state) {
        case S.Before:
          if (WS.has(c)) break;
          if (c === 0x5b /* [ */) this.#state = S.Between;
          else {
            out.push({ line: this.#line, error: 'input is not a JSON array' });
            this.#state = S.Garbage;
          }
          break;
        case S.Between:
          if (WS.has(c) || c === 0x2c /* , */) break;
          if (c === 0x5d /* ] */) {
            this.#state = S.After;
            break;
          }
          this.#elementLine = this.#line;
          segStart = i;
          if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
            this.#depth = 1;
            this.#state = S.Nested;
          } else if (c === 0x22 /* " */) {
            this.#strIsElement = true;
            this.#state = S.Str;
          } else {
            this.#state = S.Scalar;
          }
          break;
        case S.Nested:
          if (c === 0x22) {
            this.#strIsElement = false;
            this.#state = S.Str;
          } else if (c === 0x7b || c === 0x5b) {
            this.#depth++;
          } else if (c === 0x7d /* } */ || c === 0x5d) {
            if (--this.#depth === 0) {
              out.push(this.#finish(chunk.slice(segStart, i + 1)));
              segStart = -1;
              this.#state = S.Between;
            }
          }
          break;
        case S.Str:
          if (c === 0x5c /* \ */) this.#state = S.Escape;
          else if (c === 0x22) {
            if (this.#strIsElement) {
              out.push(this.#finish(chunk.slice(segStart, i + 1)));
              segStart = -1;
              this.#state = S.Between;
            } else {
              this.#state = S.Nested;
            }
          }
          break;
        case S.Escape:
          this.#state = S.Str;
          break;
        case S.Scalar:
          if (WS.has(c) || c === 0x2c || c === 0x5d) {
            out.push(this.#finish(chunk.slice(segStart, i)));
            segStart = -1;
            this.#state = c === 0x5d ? S.After : S.Between;
          }
          break;
        case S.After:
          if (WS.has(c)) break;
          // Concatenated arrays (`[...][...]`, what `cat a.json b.json` makes) are read as one stream.
          if (c === 0x5b) {
            this.#state = S.Between;
            break;
          }
          out.push({ line: this.#line, error: 'unexpected data after the closing ] (not read)' });
          this.#state = S.Garbage;
          break;
        case S.Garbage:
          i = chunk.length;
          break;
      }
    }
    if (segStart !== -1 && this.#inElement()) this.#append(chunk.slice(segStart));
    return out;
  }

  end(): ArrayPiece[] {
    switch (this.#state) {
      case S.Before:
        return [];
      case S.Between:
        return [{ line: this.#line, error: 'the input ended before the closing ] of the array' }];
      case S.Scalar:
        return [this.#finish(''), { line: this.#line, error: 'the input ended before the closing ] of the array' }];
      case S.Nested:
      case S.Str:
      case S.Escape: {
        const line = this.#elementLine;
        const piece: ArrayPiece = this.#element.overflow
          ? { line, tooLarge: true, length: this.#element.seen }
          : { line, error: 'the input ended inside this element (truncated JSON)' };
        this.#reset();
        this.#state = S.After;
        return [piece];
      }
      default:
        return [];
    }
  }

  #inElement(): boolean {
    return this.#state === S.Nested || this.#state === S.Str || this.#state === S.Escape || this.#state === S.Scalar;
  }

  #append(s: string): void {
    this.#element.append(s);
  }

  #finish(last: string): ArrayPiece {
    this.#element.append(last);
    const line = this.#elementLine;
    const { text, seen } = this.#element.take();
    this.#depth = 0;
    return text === undefined ? { line, tooLarge: true, length: seen } : { line, text };
  }

  #reset(): void {
    this.#element.take();
    this.#depth = 0;
  }
}

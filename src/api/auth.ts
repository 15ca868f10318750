// Bearer tokens from the environment, compared in constant time: both sides are hashed to a fixed length
// first, so neither the token's length nor its prefix leaks through timing.
import { createHash, timingSafeEqual } from 'node:crypto';

export class TokenVerifier {
  readonly #digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.#digests = tokens.map((t) => createHash('sha256').update(t).digest());
  }

  verify(header: string | undefined): boolean {
    if (!header) return false;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return false;
    const presented = createHash('sha256').update(m[1]!).digest();
    let ok = false;
    // Compare against every token, without stopping early.
    for (const d of this.#digests) ok = timingSafeEqual(presented, d) || ok;
    return ok;
  }
}

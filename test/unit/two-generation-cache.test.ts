import { describe, expect, it } from 'vitest';
import { TwoGenerationCache } from '../../src/pipeline/two-generation-cache.js';

describe('TwoGenerationCache', () => {
  it('keeps at most two generations: an entry not used for two turnovers is gone', () => {
    const c = new TwoGenerationCache<string, string, number>(3);
    c.set('a', '1', 1);
    c.set('a', '2', 2);
    c.set('b', '1', 3); // generation full
    c.set('c', '1', 4); // turnover: a1, a2, b1 are the older generation
    expect(c.get('a', '2')).toBe(2); // found in the older one, copied back
    c.set('d', '1', 5); // current: c1, a2, d1 → full
    c.set('e', '1', 6); // turnover: the generation holding a1 and b1 is dropped
    expect(c.get('a', '1')).toBeUndefined();
    expect(c.get('b', '1')).toBeUndefined();
    expect(c.get('a', '2')).toBe(2); // in use, so it survived
    expect(c.get('e', '1')).toBe(6);
  });

  it('tells the second key apart under one first key, undefined included', () => {
    const c = new TwoGenerationCache<string, string | undefined, string>(10);
    c.set('ip', undefined, 'no user agent');
    c.set('ip', 'Mozilla', 'browser');
    expect(c.get('ip', undefined)).toBe('no user agent');
    expect(c.get('ip', 'Mozilla')).toBe('browser');
    expect(c.get('ip', 'curl')).toBeUndefined();
    c.set('ip', 'Mozilla', 'replaced');
    expect(c.get('ip', 'Mozilla')).toBe('replaced');
  });

  it('stays bounded however many keys go through it', () => {
    const c = new TwoGenerationCache<number, number, number>(100);
    for (let i = 0; i < 10_000; i++) c.set(i, i, i);
    let held = 0;
    for (let i = 0; i < 10_000; i++) if (c.get(i, i) !== undefined) held++;
    expect(held).toBeLessThanOrEqual(200);
    expect(c.get(9_999, 9_999)).toBe(9_999);
  });
});

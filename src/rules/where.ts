// `where` filters: event field path → accepted value(s); a leading "!" negates. Compiled once per rule.
import type { EnrichedEvent } from '../events/schema.js';

type Scalar = string | number | boolean;
export type WhereFilter = Record<string, Scalar | Scalar[]>;
export type CompiledWhere = (event: EnrichedEvent) => boolean;

function getPath(obj: unknown, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, p)) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

export function compileWhere(where: WhereFilter | undefined): CompiledWhere {
  if (!where) return () => true;
  const tests = Object.entries(where).map(([rawPath, expected]) => {
    const negate = rawPath.startsWith('!');
    const isRegex = rawPath.endsWith('~');
    const path = rawPath.slice(negate ? 1 : 0, isRegex ? -1 : undefined).split('.');
    const values = Array.isArray(expected) ? expected : [expected];
    const accepted = new Set<Scalar>(values);
    const patterns = isRegex ? values.map((v) => new RegExp(String(v), 'u')) : [];
    const one = (x: unknown): boolean => {
      if (isRegex) return typeof x === 'string' && patterns.some((p) => p.test(x));
      return (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') && accepted.has(x);
    };
    return (e: EnrichedEvent) => {
      const v = getPath(e, path);
      // A list-valued field (signals) matches when any of its members is accepted.
      const hit = Array.isArray(v) ? v.some(one) : one(v);
      return negate ? !hit : hit;
    };
  });
  return (e) => {
    for (const t of tests) if (!t(e)) return false; // no closure per call: this runs for every rule on every event
    return true;
  };
}

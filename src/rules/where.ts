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
    const path = (negate ? rawPath.slice(1) : rawPath).split('.');
    const accepted = new Set<Scalar>(Array.isArray(expected) ? expected : [expected]);
    return (e: EnrichedEvent) => {
      const v = getPath(e, path);
      // A list-valued field (signals) matches when any of its members is accepted.
      const hit = Array.isArray(v) ? v.some((x) => accepted.has(x as Scalar)) : (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && accepted.has(v);
      return negate ? !hit : hit;
    };
  });
  return (e) => tests.every((t) => t(e));
}

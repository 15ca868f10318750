// distinct_count: within a time window of the session, the number of distinct values of window fields
// meets thresholds combined with all/any, e.g. "2+ networks AND (2+ OS OR 2+ browsers)".
import type { Check, DistinctCondition } from '../schema.js';
import type { RuleContext, RuleHit } from '../types.js';

type Params = Extract<Check, { type: 'distinct_count' }>;

function countSince(ctx: RuleContext, field: string, since: number): number {
  const values = ctx.window.fields[field];
  if (!values) return 0;
  let n = 0;
  for (const v of values) if (v.last >= since) n++;
  return n;
}

function check(cond: DistinctCondition, ctx: RuleContext, since: number, met: Map<string, number>): boolean {
  if ('field' in cond) {
    const n = countSince(ctx, cond.field, since);
    if (n >= cond.min) {
      met.set(cond.field, n);
      return true;
    }
    return false;
  }
  if ('all' in cond) return cond.all.every((c) => check(c, ctx, since, met));
  // `some` would stop at the first match; evaluate all so the evidence names every field that met.
  return cond.any.map((c) => check(c, ctx, since, met)).some(Boolean);
}

function leafFields(cond: DistinctCondition, out: Set<string>): Set<string> {
  if ('field' in cond) out.add(cond.field);
  else for (const c of 'all' in cond ? cond.all : cond.any) leafFields(c, out);
  return out;
}

export function evaluateDistinctCount(rule: Params, ctx: RuleContext): RuleHit | undefined {
  const since = ctx.event.time - rule.window;
  const met = new Map<string, number>();
  if (!check(rule.threshold, ctx, since, met)) return undefined;
  const counts = [...met].map(([f, n]) => `${n} ${f} values`).join(', ');
  const details: Record<string, number> = {};
  for (const [f, n] of met) details[`distinct_${f}`] = n;
  return {
    reason: `session seen with ${counts} within ${Math.round(rule.window / 60_000)} min`,
    evidenceFields: [...leafFields(rule.threshold, new Set(['network']))],
    since,
    details,
  };
}

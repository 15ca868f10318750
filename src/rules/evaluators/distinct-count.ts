// distinct_count: within a time window of the session, the number of distinct values of window fields
// meets thresholds combined with all/any, e.g. "2+ networks AND (2+ OS OR 2+ browsers)".
import type { Check, DistinctCondition } from '../schema.js';
import type { RuleContext, RuleHit } from '../types.js';
import { parsedMeta } from './meta.js';

type Params = Extract<Check, { type: 'distinct_count' }>;

/** Networks (and the ASes reached only through them) that `ignore_classes` leaves out of the counts. */
interface Ignored {
  networks: Set<string>;
  asns: Set<string>;
}

function ignoredSince(ctx: RuleContext, classes: readonly string[], since: number): Ignored | undefined {
  const networks = new Set<string>();
  const ignoredAsns = new Set<string>();
  const keptAsns = new Set<string>();
  for (const v of ctx.window.fields.network ?? []) {
    if (v.last < since) continue;
    const meta = parsedMeta<{ nc: string; asn: number }>(v.meta);
    const ignored = meta?.nc !== undefined && classes.includes(meta.nc);
    if (ignored) networks.add(v.value);
    if (meta?.asn !== undefined) (ignored ? ignoredAsns : keptAsns).add(String(meta.asn));
  }
  if (networks.size === 0) return undefined;
  // An AS also reached through a counted network still counts (an ISP both at home and behind the VPN's egress).
  for (const a of keptAsns) ignoredAsns.delete(a);
  return { networks, asns: ignoredAsns };
}

function countSince(ctx: RuleContext, field: string, since: number, ignored: Ignored | undefined): number {
  const values = ctx.window.fields[field];
  if (!values) return 0;
  const skip = field === 'network' ? ignored?.networks : field === 'asn' ? ignored?.asns : undefined;
  let n = 0;
  for (const v of values) if (v.last >= since && !skip?.has(v.value)) n++;
  return n;
}

function check(cond: DistinctCondition, ctx: RuleContext, since: number, ignored: Ignored | undefined, met: Map<string, number>): boolean {
  if ('field' in cond) {
    const n = countSince(ctx, cond.field, since, ignored);
    if (n >= cond.min) {
      met.set(cond.field, n);
      return true;
    }
    return false;
  }
  if ('all' in cond) return cond.all.every((c) => check(c, ctx, since, ignored, met));
  // `some` would stop at the first match; evaluate all so the evidence names every field that met.
  return cond.any.map((c) => check(c, ctx, since, ignored, met)).some(Boolean);
}

function leafFields(cond: DistinctCondition, out: Set<string>): Set<string> {
  if ('field' in cond) out.add(cond.field);
  else for (const c of 'all' in cond ? cond.all : cond.any) leafFields(c, out);
  return out;
}

export function evaluateDistinctCount(rule: Params, ctx: RuleContext): RuleHit | undefined {
  const since = ctx.event.time - rule.window;
  const ignored = rule.ignore_classes.length > 0 ? ignoredSince(ctx, rule.ignore_classes, since) : undefined;
  const met = new Map<string, number>();
  if (!check(rule.threshold, ctx, since, ignored, met)) return undefined;
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

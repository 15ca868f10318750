// concurrent_use: the session keeps alternating between two places or clients (A, B, A, B): victim and
// attacker both active. One move from A to B (travel, a network change) has no return and stays quiet.
import { splitTransitionKey } from '../../pipeline/observations.js';
import { hadBefore } from '../baseline.js';
import type { Check } from '../schema.js';
import type { RuleContext, RuleHit } from '../types.js';
import { networkClassOf } from './meta.js';

type Params = Extract<Check, { type: 'concurrent_use' }>;

/** The networks of the session whose class (stored with them on first sight) is listed. */
function networksOfClasses(ctx: RuleContext, classes: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const v of ctx.window.fields.network ?? []) {
    const nc = networkClassOf(v.meta);
    if (nc !== undefined && classes.includes(nc)) out.add(v.value);
  }
  return out;
}

export function evaluateConcurrentUse(rule: Params, ctx: RuleContext): RuleHit | undefined {
  const since = ctx.event.time - rule.window;
  const tunnels = rule.tunnel_classes.length > 0 ? networksOfClasses(ctx, rule.tunnel_classes) : undefined;
  // Transitions are newest first; walk oldest to newest inside the window.
  const seq: string[] = [];
  const tunnelValues = new Set<string>();
  for (let i = ctx.window.transitions.length - 1; i >= 0; i--) {
    const t = ctx.window.transitions[i]!;
    if (t.time < since) continue;
    const key = splitTransitionKey(t.key);
    const v = key[rule.on];
    if (v === '') continue; // an unknown AS is not a place
    if (tunnels?.has(key.network)) tunnelValues.add(v);
    if (seq[seq.length - 1] !== v) seq.push(v);
  }
  let returns = 0;
  const seen = new Set<string>();
  for (const v of seq) {
    if (seen.has(v)) returns++;
    seen.add(v);
  }
  // A tunnel that drops and reconnects alternates its user between the concentrator and their own line: when
  // every value that is not a tunnel is one the user had before the session, that is flapping, not two parties.
  if (tunnelValues.size > 0 && [...seen].every((v) => tunnelValues.has(v) || (rule.on !== 'network' && hadBefore(ctx.event, ctx.window, ctx.user, rule.on, v)))) return undefined;
  if (returns < rule.min_returns || seen.size < 2) return undefined;
  const field = rule.on === 'client' ? 'client' : rule.on;
  return {
    reason: `session alternated ${returns} times between ${seen.size} ${rule.on === 'asn' ? 'networks (AS)' : rule.on === 'network' ? 'networks' : 'clients'} within ${Math.round(rule.window / 60_000)} min`,
    evidenceFields: ['network', field, 'ua'],
    since,
    details: { returns, distinct: seen.size, sequence: seq.slice(-8).join(' > ') },
  };
}

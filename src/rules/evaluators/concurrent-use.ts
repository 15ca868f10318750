// concurrent_use: the session keeps alternating between two places or clients (A, B, A, B): victim and
// attacker both active. One move from A to B (travel, a network change) has no return and stays quiet.
import { splitTransitionKey } from '../../pipeline/observations.js';
import type { Check } from '../schema.js';
import type { RuleContext, RuleHit } from '../types.js';
import { parsedMeta } from './meta.js';
import type { NetworkMeta } from '../../pipeline/observations.js';

type Params = Extract<Check, { type: 'concurrent_use' }>;

export function evaluateConcurrentUse(rule: Params, ctx: RuleContext): RuleHit | undefined {
  const since = ctx.event.time - rule.window;
  // The class of each network of the session, as stored with it on first sight.
  let ignored: Set<string> | undefined;
  if (rule.ignore_classes.length > 0) {
    ignored = new Set();
    for (const v of ctx.window.fields.network ?? []) {
      const nc = parsedMeta<NetworkMeta>(v.meta)?.nc;
      if (nc !== undefined && (rule.ignore_classes as readonly string[]).includes(nc)) ignored.add(v.value);
    }
  }
  // Transitions are newest first; walk oldest to newest inside the window.
  const seq: string[] = [];
  for (let i = ctx.window.transitions.length - 1; i >= 0; i--) {
    const t = ctx.window.transitions[i]!;
    if (t.time < since) continue;
    const key = splitTransitionKey(t.key);
    if (ignored?.has(key.network)) continue;
    const v = key[rule.on];
    if (v === '') continue; // an unknown AS is not a place
    if (seq[seq.length - 1] !== v) seq.push(v);
  }
  let returns = 0;
  const seen = new Set<string>();
  for (const v of seq) {
    if (seen.has(v)) returns++;
    seen.add(v);
  }
  if (returns < rule.min_returns || seen.size < 2) return undefined;
  const field = rule.on === 'client' ? 'client' : rule.on;
  return {
    reason: `session alternated ${returns} times between ${seen.size} ${rule.on === 'asn' ? 'networks (AS)' : rule.on === 'network' ? 'networks' : 'clients'} within ${Math.round(rule.window / 60_000)} min`,
    evidenceFields: ['network', field, 'ua'],
    since,
    details: { returns, distinct: seen.size, sequence: seq.slice(-8).join(' > ') },
  };
}

// network_class: the session moved onto a hosting/datacenter, anonymizer or Tor network. Infostealer
// replay usually comes from rented infrastructure; people's sessions come from homes, offices and phones.
import { networkClassOf } from './meta.js';
import type { Check } from '../schema.js';
import type { RuleContext, RuleHit } from '../types.js';

type Params = Extract<Check, { type: 'network_class' }>;

function firstNetwork(ctx: RuleContext): { value: string; nc?: string } | undefined {
  const nets = ctx.window.fields.network;
  if (!nets || nets.length === 0) return undefined;
  let first = nets[0]!;
  for (const v of nets) if (v.first < first.first) first = v;
  const nc = networkClassOf(first.meta);
  return nc === undefined ? { value: first.value } : { value: first.value, nc };
}

export function evaluateNetworkClass(rule: Params, ctx: RuleContext): RuleHit | undefined {
  const cls = ctx.event.net_class;
  if (cls === undefined || !(rule.classes as readonly string[]).includes(cls)) return undefined;
  const first = firstNetwork(ctx);
  const began = first?.nc;
  if (rule.moved) {
    // Still on the network it began on, or born on such a network: not a move.
    if (!first || first.value === ctx.event.network) return undefined;
    if (began !== undefined && (rule.classes as readonly string[]).includes(began)) return undefined;
  }
  const org = ctx.event.as?.org ? ` (${ctx.event.as.org})` : '';
  return {
    reason: `session ${rule.moved ? 'moved onto' : 'used from'} a ${cls} network${org}`,
    evidenceFields: ['network', 'asn'],
    details: { net_class: cls, began_on: began ?? 'unclassified' },
  };
}

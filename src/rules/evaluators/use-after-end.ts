// use_after_end: any use of a session after it was logged out, revoked, or rotated to a new id.
// A stolen cookie keeps working in many apps after the victim logs out; its use is a strong signal.
import type { Check } from '../schema.js';
import type { RuleContext, RuleHit } from '../types.js';

type Params = Extract<Check, { type: 'use_after_end' }>;

export function evaluateUseAfterEnd(rule: Params, ctx: RuleContext): RuleHit | undefined {
  const ended = ctx.window.ended;
  if (!ended || !rule.after.includes(ended.type)) return undefined;
  if (!rule.use_types.includes(ctx.event.type)) return undefined;
  const gap = ctx.event.time - ended.time;
  // The ending event itself, and events that happened before it but arrived late, are not use after end.
  if (gap <= rule.grace || gap <= 0) return undefined;
  const what = ended.type === 'rotate' ? 'rotated to a new id' : ended.type === 'logout' ? 'logged out' : 'revoked';
  const details: Record<string, string | number> = {
    ended_by: ended.type, ended_at: new Date(ended.time).toISOString(), seconds_after_end: Math.round(gap / 1000), event_type: ctx.event.type,
  };
  if (ended.new_session) details.rotated_to = ended.new_session;
  if (ctx.window.rotated_from) details.rotated_from = ctx.window.rotated_from.session;
  return { reason: `session used ${Math.round(gap / 1000)} s after it was ${what}`, evidenceFields: ['network', 'client', 'ua'], details };
}

// client_change: the client of a session changed under it: a script, CLI or headless client on a session
// that began in a browser (AiTM kits and cookie stealers replay with curl/python), or the OS or browser
// family changing mid-session. Unknown values never count as a change.
import type { UserAgentMeta } from '../../pipeline/observations.js';
import { parsedMeta } from './meta.js';
import type { Check } from '../schema.js';
import type { RuleContext, RuleHit } from '../types.js';

type Params = Extract<Check, { type: 'client_change' }>;

function firstClient(ctx: RuleContext): UserAgentMeta | undefined {
  const uas = ctx.window.fields.ua;
  if (!uas || uas.length === 0) return undefined;
  let first = uas[0]!;
  for (const v of uas) if (v.first < first.first) first = v;
  return parsedMeta<UserAgentMeta>(first.meta) as UserAgentMeta | undefined;
}

const FIELD_OF = { os: 'os', browser: 'b', device: 'd' } as const;

export function evaluateClientChange(rule: Params, ctx: RuleContext): RuleHit | undefined {
  const e = ctx.event;
  if (e.user_agent === undefined) return undefined;
  const first = firstClient(ctx);
  if (!first) return undefined;
  const now = { os: e.ua.os, b: e.ua.browser, d: e.ua.device };
  if (rule.script_after_browser && e.ua.is_script && !first.s && first.b !== 'unknown') {
    return {
      reason: `script client ${e.ua.browser} on a session that began in ${first.b} on ${first.os}`,
      evidenceFields: ['network', 'client', 'ua'],
      details: { first_client: `${first.b}/${first.os}/${first.d}`, client: `${now.b}/${now.os}/${now.d}`, script: true },
    };
  }
  const changed = rule.fields.filter((f) => {
    const a = first[FIELD_OF[f]];
    const b = now[FIELD_OF[f]];
    return a !== b && a !== 'unknown' && b !== 'unknown';
  });
  if (changed.length === 0) return undefined;
  return {
    reason: `${changed.join(' and ')} changed mid-session: ${first.b} on ${first.os} became ${now.b} on ${now.os}`,
    evidenceFields: ['network', 'client', 'ua'],
    details: { first_client: `${first.b}/${first.os}/${first.d}`, client: `${now.b}/${now.os}/${now.d}`, changed: changed.join(',') },
  };
}

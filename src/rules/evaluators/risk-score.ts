// risk_score: weighted signals combined into one score with a threshold, so that weak signals together can
// alert while each alone stays quiet (a new ASN for the user is weak; a new ASN, on a hosting network, with
// a different OS, is not).
import { baselineEstablished, familiarity } from '../baseline.js';
import type { RuleOf } from '../schema.js';
import type { RuleContext, RuleOutcome } from '../types.js';
import { isSkip } from '../types.js';
import { compileWhere } from '../where.js';
import { compileCheck } from './index.js';

const DEFAULT_ESTABLISHED = { min_age: 7 * 86_400_000, min_events: 10 };

export function compileRiskScore(rule: RuleOf<'risk_score'>): (ctx: RuleContext) => RuleOutcome {
  const signals = rule.signals.map((s) => ({
    name: s.name,
    weight: s.weight,
    where: s.where ? compileWhere(s.where) : undefined,
    check: s.check ? compileCheck(s.check) : undefined,
    newFor: s.new_for_user,
    group: s.group,
  }));
  return (ctx) => {
    const holding: { name: string; weight: number; group: string | undefined }[] = [];
    const evidence = new Set(['network']);
    for (const s of signals) {
      if (s.where && !s.where(ctx.event)) continue;
      if (s.newFor) {
        if (!baselineEstablished(ctx.event, ctx.user, DEFAULT_ESTABLISHED)) continue;
        if (familiarity(ctx.event, ctx.window, ctx.user, s.newFor, rule.baseline_days, rule.corroborate_travel) !== 'new') continue;
        evidence.add(s.newFor === 'client' ? 'client' : s.newFor);
      }
      if (s.check) {
        const out = s.check(ctx);
        if (!out || isSkip(out)) continue;
        for (const f of out.evidenceFields) evidence.add(f);
      }
      holding.push(s);
    }
    // Of each group, only the heaviest holding signal counts.
    const heaviest = new Map<string, { name: string; weight: number }>();
    for (const s of holding) {
      if (s.group === undefined) continue;
      const top = heaviest.get(s.group);
      if (!top || s.weight > top.weight) heaviest.set(s.group, s);
    }
    let score = 0;
    const held: string[] = [];
    for (const s of holding) {
      if (s.group === undefined || heaviest.get(s.group) === s) {
        score += s.weight;
        held.push(`${s.name}(${s.weight})`);
      } else {
        held.push(`${s.name}(0: ${s.group} counted once)`);
      }
    }
    if (score < rule.threshold) return undefined;
    return {
      reason: `risk score ${score} ≥ ${rule.threshold}: ${held.join(', ')}`,
      evidenceFields: [...evidence],
      details: { score, threshold: rule.threshold, signals: held.join(',') },
    };
  };
}

// Runs the loaded rules on (event, window, user baseline) and turns hits into detections with evidence.
// Rules are pure: they never touch Redis. The rule set (with its lists) is swapped as a whole, so a reload
// never shows a half-loaded set.
import type { EnrichedEvent } from '../events/schema.js';
import type { Detection, Evidence, EvidenceValue } from '../incidents/model.js';
import type { NetworkMeta, UserAgentMeta } from '../pipeline/observations.js';
import type { WindowValue } from '../state/window.js';
import { baselineEstablished, familiarity } from './baseline.js';
import { compileCheck } from './evaluators/index.js';
import { parsedMeta } from './evaluators/meta.js';
import { compileRiskScore } from './evaluators/risk-score.js';
import { compileException, type CompiledException } from './exceptions.js';
import { NetworkLists } from './lists.js';
import type { LoadedRule } from './loader.js';
import type { Rule } from './schema.js';
import { isSkip, type RuleContext, type RuleHit, type RuleOutcome } from './types.js';
import { compileWhere, type CompiledWhere } from './where.js';

interface CompiledRule {
  rule: Rule;
  file: string;
  where: CompiledWhere;
  exceptions: CompiledException[];
  evaluate: (ctx: RuleContext) => RuleOutcome;
}

function compile(loaded: LoadedRule): CompiledRule {
  const { rule } = loaded;
  let evaluate: CompiledRule['evaluate'];
  if (rule.type === 'risk_score') evaluate = compileRiskScore(rule);
  else if (rule.type === 'match') evaluate = (ctx) => ({ reason: `event matched: ${JSON.stringify(rule.where ?? {})}`, evidenceFields: ['network', 'ua'], details: { event_type: ctx.event.type } });
  else evaluate = compileCheck(rule);
  return { rule, file: loaded.file, where: compileWhere(rule.where), exceptions: rule.exceptions.map(compileException), evaluate };
}

export interface RuleFailure {
  rule: string;
  error: unknown;
}

export interface Evaluation {
  detections: Detection[];
  failures: RuleFailure[];
  /** rules that could not judge the event, with why (e.g. missing_geo) */
  skips: { rule: string; reason: string }[];
  /** rules whose hit an exception allowed, with the exception's reason */
  excepted: { rule: string; reason: string }[];
}

const MAX_EVIDENCE_VALUES = 10;

function parseMeta<T>(meta: string): Readonly<Partial<T>> {
  return parsedMeta<T>(meta) ?? ({} as Readonly<Partial<T>>);
}

function evidenceValue(field: string, v: WindowValue): EvidenceValue {
  const out: EvidenceValue = { value: v.value, first_seen: new Date(v.first).toISOString(), last_seen: new Date(v.last).toISOString() };
  if (field === 'network') {
    const m = parseMeta<NetworkMeta>(v.meta);
    if (m.ip) out.ip = m.ip;
    if (m.cc) out.country = m.cc;
    if (m.city) out.city = m.city;
    if (m.asn !== undefined) out.asn = m.asn;
    if (m.org) out.as_org = m.org;
    if (m.lat !== undefined) out.lat = m.lat;
    if (m.lon !== undefined) out.lon = m.lon;
  } else if (field === 'ua') {
    const m = parseMeta<UserAgentMeta>(v.meta);
    if (m.b) out.browser = m.b;
    if (m.os) out.os = m.os;
    if (m.d) out.device = m.d;
    if (m.s !== undefined) out.is_script = m.s;
  } else if (field === 'asn' && v.meta) {
    out.as_org = v.meta;
  }
  return out;
}

export function buildEvidence(ctx: RuleContext, hit: RuleHit): Evidence {
  const since = hit.since ?? -Infinity;
  const fields: Record<string, EvidenceValue[]> = {};
  for (const f of hit.evidenceFields) {
    const values = (ctx.window.fields[f] ?? []).filter((v) => v.last >= since).slice(-MAX_EVIDENCE_VALUES);
    if (values.length > 0) fields[f] = values.map((v) => evidenceValue(f, v));
  }
  const ips = (ctx.window.fields.network ?? [])
    .filter((v) => v.last >= since)
    .map((v) => parseMeta<NetworkMeta>(v.meta).ip)
    .filter((ip): ip is string => typeof ip === 'string')
    .slice(-MAX_EVIDENCE_VALUES);
  const userAgents = (ctx.window.fields.ua ?? [])
    .filter((v) => v.last >= since)
    .map((v) => parseMeta<UserAgentMeta>(v.meta).raw)
    .filter((ua): ua is string => typeof ua === 'string')
    .slice(-MAX_EVIDENCE_VALUES);
  const evidence: Evidence = { reason: hit.reason, fields, ips, user_agents: userAgents, trigger_ip: ctx.event.ip };
  if (hit.details) evidence.details = hit.details;
  return evidence;
}

interface RuleSet {
  rules: CompiledRule[];
  lists: NetworkLists;
}

export class RuleEngine {
  #set: RuleSet = { rules: [], lists: new NetworkLists() };

  constructor(rules: readonly LoadedRule[] = [], lists: NetworkLists = new NetworkLists(), private readonly now: () => number = Date.now) {
    this.setRules(rules, lists);
  }

  /** Atomically replaces the rule set and its lists. */
  setRules(rules: readonly LoadedRule[], lists: NetworkLists = this.#set.lists): void {
    this.#set = { rules: rules.map(compile), lists };
  }

  get rules(): readonly Rule[] {
    return this.#set.rules.map((r) => r.rule);
  }

  get loaded(): LoadedRule[] {
    return this.#set.rules.map((r) => ({ rule: r.rule, file: r.file }));
  }

  get lists(): NetworkLists {
    return this.#set.lists;
  }

  /** The network class of the event's address, from the current lists. */
  classify(event: Pick<EnrichedEvent, 'ip' | 'as' | 'is_proxy'>): string | undefined {
    return this.#set.lists.classify(event);
  }

  evaluate(input: Omit<RuleContext, 'lists'>): Evaluation {
    const set = this.#set; // one consistent set for this event even if a reload swaps mid-way
    const ctx: RuleContext = { ...input, lists: set.lists };
    const out: Evaluation = { detections: [], failures: [], skips: [], excepted: [] };
    const now = this.now();
    for (const r of set.rules) {
      let outcome: RuleOutcome;
      try {
        if (!r.where(ctx.event)) continue;
        outcome = r.evaluate(ctx);
      } catch (error) {
        // A rule that throws on one event must not take the event away from the other rules.
        out.failures.push({ rule: r.rule.id, error });
        continue;
      }
      if (outcome === undefined) continue;
      if (isSkip(outcome)) {
        out.skips.push({ rule: r.rule.id, reason: outcome.skipped });
        continue;
      }
      const exception = r.exceptions.find((x) => x.test(ctx.event, set.lists, now));
      if (exception) {
        out.excepted.push({ rule: r.rule.id, reason: exception.source.reason });
        continue;
      }
      let monitor = r.rule.action === 'monitor';
      const req = r.rule.baseline;
      if (req) {
        if (!baselineEstablished(ctx.event, ctx.user, req)) {
          if (req.cold_start === 'skip') {
            out.skips.push({ rule: r.rule.id, reason: 'no_baseline' });
            continue;
          }
          monitor ||= req.cold_start === 'monitor';
        } else {
          const verdicts = req.new_for_user.map((k) => familiarity(ctx.event, ctx.window, ctx.user, k, req.days, req.corroborate_travel));
          if (verdicts.includes('unknown_value')) {
            out.skips.push({ rule: r.rule.id, reason: 'missing_value' });
            continue;
          }
          if (verdicts.includes('known')) continue;
          if (verdicts.includes('travel')) {
            out.skips.push({ rule: r.rule.id, reason: 'travel_corroborated' });
            continue;
          }
        }
      }
      const e = ctx.event;
      const detection: Detection = {
        rule: { id: r.rule.id, title: r.rule.title, version: r.rule.version },
        severity: r.rule.severity,
        mitre: r.rule.mitre,
        session: e.session,
        tenant: e.tenant,
        time: e.time,
        event_id: e.id,
        evidence: buildEvidence(ctx, outcome),
        action: r.rule.action === 'alert' || r.rule.action === 'monitor' ? 'alert' : `revoke:${r.rule.action.mode}`,
        monitor,
        cooldown_ms: r.rule.suppress,
      };
      if (e.user !== undefined) detection.user = e.user;
      out.detections.push(detection);
    }
    return out;
  }
}

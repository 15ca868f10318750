// Runs the loaded rules on (event, window) and turns hits into detections with evidence. Rules are pure:
// they never touch Redis. The rule set is swapped as a whole, so a reload never shows a half-loaded set.
import type { Detection, Evidence, EvidenceValue } from '../incidents/model.js';
import type { NetworkMeta, UserAgentMeta } from '../pipeline/observations.js';
import type { WindowValue } from '../state/window.js';
import { evaluateDistinctCount } from './evaluators/distinct-count.js';
import { evaluateUseAfterEnd } from './evaluators/use-after-end.js';
import type { LoadedRule } from './loader.js';
import type { Rule } from './schema.js';
import type { RuleContext, RuleHit } from './types.js';
import { compileWhere, type CompiledWhere } from './where.js';

interface CompiledRule {
  rule: Rule;
  file: string;
  where: CompiledWhere;
  evaluate: (ctx: RuleContext) => RuleHit | undefined;
}

function compile(loaded: LoadedRule): CompiledRule {
  const { rule } = loaded;
  let evaluate: CompiledRule['evaluate'];
  switch (rule.type) {
    case 'distinct_count':
      evaluate = (ctx) => evaluateDistinctCount(rule, ctx);
      break;
    case 'use_after_end':
      evaluate = (ctx) => evaluateUseAfterEnd(rule, ctx);
      break;
  }
  return { rule, file: loaded.file, where: compileWhere(rule.where), evaluate };
}

export interface RuleFailure {
  rule: string;
  error: unknown;
}

export interface Evaluation {
  detections: Detection[];
  failures: RuleFailure[];
}

const MAX_EVIDENCE_VALUES = 10;

function parseMeta<T>(meta: string): Partial<T> {
  if (!meta.startsWith('{')) return {};
  try {
    return JSON.parse(meta) as Partial<T>;
  } catch {
    return {};
  }
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

export class RuleEngine {
  #rules: CompiledRule[] = [];

  constructor(rules: readonly LoadedRule[] = []) {
    this.setRules(rules);
  }

  /** Atomically replaces the rule set. */
  setRules(rules: readonly LoadedRule[]): void {
    this.#rules = rules.map(compile);
  }

  get rules(): readonly Rule[] {
    return this.#rules.map((r) => r.rule);
  }

  evaluate(ctx: RuleContext): Evaluation {
    const detections: Detection[] = [];
    const failures: RuleFailure[] = [];
    const rules = this.#rules; // one consistent set for this event even if a reload swaps mid-way
    for (const r of rules) {
      let hit: RuleHit | undefined;
      try {
        if (!r.where(ctx.event)) continue;
        hit = r.evaluate(ctx);
      } catch (error) {
        // A rule that throws on one event must not take the event away from the other rules.
        failures.push({ rule: r.rule.id, error });
        continue;
      }
      if (!hit) continue;
      const e = ctx.event;
      const detection: Detection = {
        rule: { id: r.rule.id, title: r.rule.title, version: r.rule.version },
        severity: r.rule.severity,
        mitre: r.rule.mitre,
        session: e.session,
        tenant: e.tenant,
        time: e.time,
        event_id: e.id,
        evidence: buildEvidence(ctx, hit),
      };
      if (e.user !== undefined) detection.user = e.user;
      detections.push(detection);
    }
    return { detections, failures };
  }
}

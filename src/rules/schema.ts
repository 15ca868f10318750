// The rule file format (docs/rules.md). One rule per YAML file; every rule type shares the common fields
// and adds its own parameters. Unknown keys are errors (with a "did you mean"), never silently ignored:
// a typo in a threshold must not quietly disable a detection.
import { isIP } from 'node:net';
import { z } from 'zod';
import { EVENT_TYPES } from '../events/schema.js';
import { SEVERITIES } from '../incidents/model.js';
import { durationMs } from './duration.js';
import { nearest } from './yaml.js';
import { NETWORK_CLASSES, parseCidr } from './lists.js';

/** Fields the session window tracks; distinct-count rules count these. */
export const WINDOW_FIELDS = ['network', 'asn', 'country', 'browser', 'os', 'device', 'client', 'ua', 'device_id'] as const;
export type WindowField = (typeof WINDOW_FIELDS)[number];

/** What a user baseline remembers per user (asn, country, client = browser/os/device). */
export const BASELINE_KINDS = ['asn', 'country', 'client'] as const;
export type BaselineKind = (typeof BASELINE_KINDS)[number];

export interface DistinctLeaf {
  field: WindowField;
  min: number;
}
export type DistinctCondition = DistinctLeaf | { all: DistinctCondition[] } | { any: DistinctCondition[] };

const leafSchema = z.strictObject({ field: z.enum(WINDOW_FIELDS), min: z.number().int().min(2).max(1000) });
export const distinctConditionSchema: z.ZodType<DistinctCondition> = z.lazy(() =>
  z.union([
    leafSchema,
    z.strictObject({ all: z.array(distinctConditionSchema).min(1) }),
    z.strictObject({ any: z.array(distinctConditionSchema).min(1) }),
  ]),
);

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** The enriched event's fields that `where` may name (src/events/schema.ts EnrichedEvent). */
export const EVENT_PATHS = [
  'id', 'time', 'type', 'session', 'new_session', 'user', 'tenant', 'ip', 'user_agent', 'device_id', 'app', 'asn', 'country',
  'is_proxy', 'signals', 'network', 'net_class',
  'geo.country', 'geo.region', 'geo.city', 'geo.lat', 'geo.lon', 'geo.accuracy_km',
  'as.number', 'as.org',
  'ua.browser', 'ua.browser_major', 'ua.os', 'ua.device', 'ua.is_script',
];
/**
 * `where`: event field path → value or list of accepted values; a leading `!` on the path negates, a
 * trailing `~` makes the values regular expressions (any one matching is enough).
 */
export const whereSchema = z
  .record(
    z.string().regex(/^!?[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*~?$/, 'a dotted event field path, e.g. ua.is_script (with ! to negate, ~ for regular expressions)'),
    z.union([scalar, z.array(scalar).min(1)]),
  )
  .superRefine((where, ctx) => {
    for (const [key, value] of Object.entries(where)) {
      // A misspelt path never matches: it would silently disable the rule (or silently drop an exclusion).
      const path = key.replace(/^!/, '').replace(/~$/, '');
      if (!EVENT_PATHS.includes(path)) {
        const suggestion = nearest(path, EVENT_PATHS);
        ctx.addIssue({ code: 'custom', path: [key], message: `no event field "${path}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}` });
        continue;
      }
      if (!key.endsWith('~')) continue;
      for (const v of Array.isArray(value) ? value : [value]) {
        if (typeof v !== 'string' || v.length > 500) {
          ctx.addIssue({ code: 'custom', path: [key], message: 'a regular expression (a string of at most 500 characters)' });
          continue;
        }
        try {
          new RegExp(v, 'u');
        } catch (err) {
          ctx.addIssue({ code: 'custom', path: [key], message: `not a regular expression: ${(err as Error).message}` });
        }
      }
    }
  });

const cidrString = z.string().refine((c) => parseCidr(c) !== undefined, 'a CIDR such as 203.0.113.0/24 or 2001:db8::/48');
const dateString = z.union([z.string(), z.date()]).transform((v, ctx) => {
  const ms = v instanceof Date ? v.getTime() : Date.parse(v);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: 'a date such as 2027-01-31 or 2027-01-31T12:00:00Z' });
    return z.NEVER;
  }
  return ms;
});

export const exceptionFields = z
  .strictObject({
    cidr: z.union([cidrString, z.array(cidrString).min(1)]).optional(),
    asn: z.union([z.number().int().min(1), z.array(z.number().int().min(1)).min(1)]).optional(),
    user: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    tenant: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    country: z.union([z.string().length(2), z.array(z.string().length(2)).min(1)]).optional(),
    /** a case-insensitive substring of the raw user agent */
    user_agent: z.string().min(3).max(500).optional(),
    /** a network list from rules/lists */
    list: z.string().min(1).optional(),
    reason: z.string().min(3).max(1000),
    owner: z.string().min(1).max(200),
    expires: dateString.optional(),
  });
export const exceptionSchema = exceptionFields
  .refine((e) => e.cidr ?? e.asn ?? e.user ?? e.tenant ?? e.country ?? e.user_agent ?? e.list, {
    message: 'an exception must name at least one of cidr, asn, user, tenant, country, user_agent, list',
  });
export type RuleException = z.output<typeof exceptionSchema>;

export const baselineSchema = z.strictObject({
  /** fire only when the event's value of each kind was not seen for the user in an earlier session */
  new_for_user: z.array(z.enum(BASELINE_KINDS)).min(1),
  /** values last seen longer ago than this are forgotten */
  days: z.number().int().min(1).max(365).default(30),
  /** the baseline counts as established once the user was first seen this long ago ... */
  min_age: durationMs.default(7 * 86_400_000),
  /** ... and has at least this many events */
  min_events: z.number().int().min(0).default(10),
  /** without an established baseline: record the detection in monitor mode, alert anyway, or stay quiet */
  cold_start: z.enum(['monitor', 'alert', 'skip']).default('monitor'),
  /**
   * a new ASN or country in a country the session moved to and the user has signed in from afresh since the
   * session began counts as travel, not new (src/rules/baseline.ts travelCorroborated)
   */
  corroborate_travel: z.boolean().default(true),
});
export type BaselineRequirement = z.output<typeof baselineSchema>;

// ---- type parameters (shared by rules and by risk_score's inline checks) ----

const distinctCountParams = {
  /** values last seen longer ago than this (before the event) do not count */
  window: durationMs,
  threshold: distinctConditionSchema,
  /**
   * networks of these classes (stored with them on first sight) do not count as networks, and an AS reached only
   * through them does not count as an AS: an office egress or VPN concentrator is the organisation's own path
   */
  ignore_classes: z.array(z.enum(NETWORK_CLASSES)).default([]),
};

const useAfterEndParams = {
  after: z.array(z.enum(['logout', 'revoke', 'rotate'])).min(1).default(['logout', 'revoke', 'rotate']),
  /** in-flight requests right after an ending are normal; only use past this counts */
  grace: durationMs.default(0),
  /** event types that count as use */
  use_types: z.array(z.enum(EVENT_TYPES)).min(1).default(['request', 'refresh', 'rotate']),
};

const impossibleTravelParams = {
  /** compare with the session's previous location, or with the user's previous location in any session */
  scope: z.enum(['session', 'user']).default('session'),
  /** distance after subtracting both locations' accuracy radius, below which nothing fires */
  min_distance_km: z.number().min(0).max(20_000).default(500),
  max_speed_kmh: z.number().min(1).max(100_000).default(900),
  /** floor on the time between the two observations (clock skew, batching) */
  min_interval: durationMs.default(60_000),
  /** the previous observation must be at most this old */
  max_interval: durationMs.default(24 * 3_600_000),
  /**
   * networks of these classes are not places, at either end: relays, satellite ground stations and mobile
   * gateways geolocate far from the person using them
   */
  ignore_classes: z.array(z.enum(NETWORK_CLASSES)).default([]),
};

const concurrentUseParams = {
  /** what alternates: the AS (default: IP churn inside one ISP is not concurrency), the network, or the client */
  on: z.enum(['asn', 'network', 'client']).default('asn'),
  window: durationMs.default(30 * 60_000),
  /** returns to a value seen earlier in the window: A,B,A,B has 2; one move A→B has 0 */
  min_returns: z.number().int().min(1).max(100).default(2),
  /**
   * networks of these classes are tunnels (`vpn`): one that drops and reconnects alternates its user between the
   * concentrator and their own line all day, so an alternation whose other values are all ones the user had
   * before the session began does not count
   */
  tunnel_classes: z.array(z.enum(NETWORK_CLASSES)).default([]),
};

const clientChangeParams = {
  /** parsed fields whose change from the session's first client counts */
  fields: z.array(z.enum(['os', 'browser', 'device'])).default([]),
  /** a script, CLI or headless client on a session that began in a browser */
  script_after_browser: z.boolean().default(true),
};

const networkClassParams = {
  classes: z.array(z.enum(NETWORK_CLASSES)).min(1),
  /** only when the session began on a network of another class (a session born on a VPN stays quiet) */
  moved: z.boolean().default(true),
};

const matchParams = {};

const CHECK_TYPES = {
  distinct_count: distinctCountParams,
  use_after_end: useAfterEndParams,
  impossible_travel: impossibleTravelParams,
  concurrent_use: concurrentUseParams,
  client_change: clientChangeParams,
  network_class: networkClassParams,
  match: matchParams,
} as const;

const checkSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('distinct_count'), ...distinctCountParams }),
  z.strictObject({ type: z.literal('use_after_end'), ...useAfterEndParams }),
  z.strictObject({ type: z.literal('impossible_travel'), ...impossibleTravelParams }),
  z.strictObject({ type: z.literal('concurrent_use'), ...concurrentUseParams }),
  z.strictObject({ type: z.literal('client_change'), ...clientChangeParams }),
  z.strictObject({ type: z.literal('network_class'), ...networkClassParams }),
]);
export type Check = z.output<typeof checkSchema>;

const signalSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9_]{2,64}$/),
    weight: z.number().min(-1000).max(1000),
    /**
     * signals that describe one fact in several ways (a far jump, a new country: both say "went abroad") share a
     * group, and only the heaviest holding signal of a group counts, so one fact is not added up three times
     */
    group: z.string().regex(/^[a-z0-9_]{2,64}$/).optional(),
    /** the signal holds when the event matches these filters ... */
    where: whereSchema.optional(),
    /** ... and/or when this check (any rule type's parameters) fires ... */
    check: checkSchema.optional(),
    /** ... and/or when the event's value of this kind is new for the user */
    new_for_user: z.enum(BASELINE_KINDS).optional(),
  })
  .refine((s) => s.where ?? s.check ?? s.new_for_user, { message: 'a signal needs where, check or new_for_user' });
export type RiskSignal = z.output<typeof signalSchema>;

const riskScoreParams = {
  signals: z.array(signalSchema).min(1).max(50),
  /** as in `baseline`: a new_for_user signal does not hold for a value corroborated as travel */
  corroborate_travel: z.boolean().default(true),
  threshold: z.number().min(1),
  /** user-baseline settings used by new_for_user signals */
  baseline_days: z.number().int().min(1).max(365).default(30),
};

const common = {
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{2,63}$/, 'lower-case letters, digits, . _ - (3-64 characters)'),
  title: z.string().min(3).max(200),
  description: z.string().max(4000).optional(),
  version: z.number().int().min(1).default(1),
  enabled: z.boolean().default(true),
  severity: z.enum(SEVERITIES),
  mitre: z.array(z.string().regex(/^T\d{4}(\.\d{3})?$/, 'a MITRE ATT&CK technique id such as T1539 or T1550.004')).default([]),
  tags: z.array(z.string().max(64)).default([]),
  where: whereSchema.optional(),
  exceptions: z.array(exceptionSchema).default([]),
  baseline: baselineSchema.optional(),
  /** per (rule, session) cooldown: hits within it are counted on the incident, not re-emitted */
  suppress: durationMs.default(0),
  /**
   * alert; monitor (every incident recorded in monitor mode, for review and context, never an alert or a
   * revocation: for weak signals that are better read beside others); or revoke (shadow: decided and logged,
   * enforce: sent)
   */
  action: z
    .union([z.literal('alert'), z.literal('monitor'), z.strictObject({ type: z.literal('revoke'), mode: z.enum(['shadow', 'enforce']).default('shadow') })])
    .default('alert'),
  false_positives: z.array(z.string().max(1000)).default([]),
  references: z.array(z.string().max(500)).default([]),
};

export const ruleSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...common, type: z.literal('distinct_count'), ...distinctCountParams }),
  z.strictObject({ ...common, type: z.literal('use_after_end'), ...useAfterEndParams }),
  z.strictObject({ ...common, type: z.literal('impossible_travel'), ...impossibleTravelParams }),
  z.strictObject({ ...common, type: z.literal('concurrent_use'), ...concurrentUseParams }),
  z.strictObject({ ...common, type: z.literal('client_change'), ...clientChangeParams }),
  z.strictObject({ ...common, type: z.literal('network_class'), ...networkClassParams }),
  z.strictObject({ ...common, type: z.literal('match'), ...matchParams }),
  z.strictObject({ ...common, type: z.literal('risk_score'), ...riskScoreParams }),
]);

export type Rule = z.output<typeof ruleSchema>;
export type RuleType = Rule['type'];
export type RuleOf<T extends RuleType> = Extract<Rule, { type: T }>;
export const RULE_TYPES = ruleSchema.options.map((o) => o.shape.type.value);
export const COMMON_KEYS = Object.keys(common);

/** Keys valid at a path of a rule document (for "did you mean"). */
export function knownRuleKeys(value: unknown, path: readonly PropertyKey[]): readonly string[] {
  const type = (value as { type?: unknown } | null)?.type;
  if (path.length === 0) {
    const option = ruleSchema.options.find((o) => o.shape.type.value === type) ?? ruleSchema.options[0];
    return Object.keys(option.shape);
  }
  if (path[0] === 'threshold' || path.includes('threshold')) return ['field', 'min', 'all', 'any'];
  if (path[0] === 'action') return ['type', 'mode'];
  if (path[0] === 'exceptions') return Object.keys(exceptionFields.shape);
  if (path[0] === 'baseline') return Object.keys(baselineSchema.shape);
  if (path[0] === 'signals' && path.length === 2) return ['name', 'weight', 'where', 'check', 'new_for_user'];
  if (path[0] === 'signals' && path[2] === 'check') {
    const checkType = ((value as { signals?: { check?: { type?: string } }[] }).signals?.[Number(path[1])]?.check?.type ?? '') as keyof typeof CHECK_TYPES;
    return ['type', ...Object.keys(CHECK_TYPES[checkType] ?? {})];
  }
  return [];
}

export function isIpLiteral(s: string): boolean {
  return isIP(s) !== 0;
}

// The rule file format (docs/rules.md). One rule per YAML file; every rule type shares the common fields
// and adds its own parameters. Unknown keys are errors (with a "did you mean"), never silently ignored:
// a typo in a threshold must not quietly disable a detection.
import { z } from 'zod';
import { EVENT_TYPES } from '../events/schema.js';
import { SEVERITIES } from '../incidents/model.js';
import { durationMs } from './duration.js';

/** Fields the session window tracks; distinct-count rules count these. */
export const WINDOW_FIELDS = ['network', 'asn', 'country', 'browser', 'os', 'device', 'client', 'ua', 'device_id'] as const;
export type WindowField = (typeof WINDOW_FIELDS)[number];

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
/** `where`: event field path → value or list of accepted values; a leading `!` on the path negates. */
const whereSchema = z.record(z.string().regex(/^!?[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/, 'a dotted event field path, e.g. ua.is_script'), z.union([scalar, z.array(scalar).min(1)]));

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
  action: z
    .union([
      z.literal('alert'),
      z.strictObject({ type: z.literal('revoke'), mode: z.enum(['shadow', 'enforce']).default('shadow') }),
    ])
    .default('alert'),
  false_positives: z.array(z.string().max(1000)).default([]),
  references: z.array(z.string().max(500)).default([]),
};

export const distinctCountRuleSchema = z.strictObject({
  ...common,
  type: z.literal('distinct_count'),
  /** values last seen longer ago than this (before the event) do not count */
  window: durationMs,
  threshold: distinctConditionSchema,
});

export const useAfterEndRuleSchema = z.strictObject({
  ...common,
  type: z.literal('use_after_end'),
  after: z.array(z.enum(['logout', 'revoke', 'rotate'])).min(1).default(['logout', 'revoke', 'rotate']),
  /** in-flight requests right after a rotation are normal; only use past this counts */
  grace: durationMs.default(0),
  /** event types that count as use */
  use_types: z.array(z.enum(EVENT_TYPES)).min(1).default(['request', 'refresh', 'rotate']),
});

export const ruleSchema = z.discriminatedUnion('type', [distinctCountRuleSchema, useAfterEndRuleSchema]);

export type Rule = z.output<typeof ruleSchema>;
export type DistinctCountRule = z.output<typeof distinctCountRuleSchema>;
export type UseAfterEndRule = z.output<typeof useAfterEndRuleSchema>;
export const RULE_TYPES = ['distinct_count', 'use_after_end'] as const;

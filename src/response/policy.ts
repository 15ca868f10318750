// Revocation policy: whether a detection may log a session out by itself. Layers, most restrictive wins:
// the rule's action (alert, or revoke in shadow or enforce mode), the global mode (a kill switch: `alert`
// stops every automatic revocation), a tenant override, a minimum severity, monitor-mode incidents (never
// acted on), and a rate limit (a broken rule must not log out the whole company: past it, revocations
// wait for a human and an alert says why).
import { z } from 'zod';
import { SEVERITIES, severityRank, type Incident, type Severity } from '../incidents/model.js';
import { durationMs } from '../rules/duration.js';

export const MODES = ['alert', 'shadow', 'enforce'] as const;
export type Mode = (typeof MODES)[number];

const tenantPolicy = z.strictObject({ mode: z.enum(MODES).optional(), min_severity: z.enum(SEVERITIES).optional() });

export const policySchema = z.strictObject({
  /** the ceiling for every rule: alert (kill switch), shadow, or enforce */
  mode: z.enum(MODES).default('shadow'),
  min_severity: z.enum(SEVERITIES).default('high'),
  rate_limit: z.strictObject({ max: z.number().int().min(0), per: durationMs }).default({ max: 20, per: 3_600_000 }),
  tenants: z.record(z.string(), tenantPolicy).default({}),
});
export type RevocationPolicy = z.output<typeof policySchema>;

export type Decision =
  | { kind: 'none'; why: string }
  | { kind: 'shadow'; why: string }
  | { kind: 'enforce'; why: string }
  | { kind: 'held'; why: string };

const RANK: Record<Mode, number> = { alert: 0, shadow: 1, enforce: 2 };

function lower(a: Mode, b: Mode): Mode {
  return RANK[a] <= RANK[b] ? a : b;
}

/**
 * Decides for an automatic (policy-initiated) revocation. `withinRateLimit` is asked only when the answer
 * would be `enforce`, so shadow decisions never use up the budget.
 */
export async function decide(
  incident: Pick<Incident, 'action' | 'severity' | 'tenant' | 'monitor'>,
  policy: RevocationPolicy,
  withinRateLimit: () => Promise<boolean>,
  killSwitch = false,
): Promise<Decision> {
  if (incident.action === 'alert') return { kind: 'none', why: 'the rule only alerts' };
  if (incident.monitor) return { kind: 'none', why: 'monitor mode: a monitor-only rule, or a user without an established baseline' };
  const tenant = policy.tenants[incident.tenant] ?? {};
  const minSeverity: Severity = tenant.min_severity ?? policy.min_severity;
  if (severityRank(incident.severity) < severityRank(minSeverity)) return { kind: 'none', why: `severity ${incident.severity} is below ${minSeverity}` };
  const ruleMode: Mode = incident.action === 'revoke:enforce' ? 'enforce' : 'shadow';
  let mode = lower(ruleMode, tenant.mode ?? policy.mode);
  // A tenant may be stricter than the global mode, never looser.
  mode = lower(mode, policy.mode);
  if (killSwitch) mode = 'alert';
  if (mode === 'alert') return { kind: 'none', why: killSwitch ? 'the revocation kill switch is on' : 'policy mode is alert' };
  if (mode === 'shadow') return { kind: 'shadow', why: 'would revoke (shadow mode)' };
  if (!(await withinRateLimit())) return { kind: 'held', why: `automatic revocation rate limit (${policy.rate_limit.max} per ${Math.round(policy.rate_limit.per / 60_000)} min) reached: waiting for a human` };
  return { kind: 'enforce', why: 'policy allows automatic revocation' };
}

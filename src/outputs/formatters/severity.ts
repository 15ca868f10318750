// The one severity table (docs/outputs.md §Severity repeats it). Every formatter reads its scale from here so
// a change of policy is a change of one row, and the numbers match shared/reference/siem-formats.md §0.
import { SEVERITIES, type Severity } from '../../incidents/model.js';

export interface SeverityMapping {
  /** CEF header Severity, 0..10 (bands: 0-3 Low, 4-6 Medium, 7-8 High, 9-10 Very-High) */
  cef: number;
  /** the CEF band name for the number above */
  cefLabel: 'Low' | 'Medium' | 'High' | 'Very-High';
  /** LEEF `sev`, 1..10 (0 is out of range) */
  leef: number;
  /** OCSF severity_id and its caption */
  ocsfId: 1 | 2 | 3 | 4 | 5;
  ocsfCaption: 'Informational' | 'Low' | 'Medium' | 'High' | 'Critical';
  /** ECS event.severity and event.risk_score (Elastic detection-rule convention 21/47/73/99) */
  ecs: number;
  /** RFC 5424 severity (0 Emergency .. 7 Debug); 0 and 1 are left out: they describe the logging host's own state */
  syslog: number;
  /** Google SecOps UDM ProductSeverity, kept here so a future UDM formatter has no second table */
  udm: 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
}

export const SEVERITY_TABLE: Readonly<Record<Severity, Readonly<SeverityMapping>>> = {
  info: { cef: 1, cefLabel: 'Low', leef: 1, ocsfId: 1, ocsfCaption: 'Informational', ecs: 21, syslog: 6, udm: 'INFORMATIONAL' },
  low: { cef: 3, cefLabel: 'Low', leef: 3, ocsfId: 2, ocsfCaption: 'Low', ecs: 21, syslog: 5, udm: 'LOW' },
  medium: { cef: 5, cefLabel: 'Medium', leef: 5, ocsfId: 3, ocsfCaption: 'Medium', ecs: 47, syslog: 4, udm: 'MEDIUM' },
  high: { cef: 8, cefLabel: 'High', leef: 8, ocsfId: 4, ocsfCaption: 'High', ecs: 73, syslog: 3, udm: 'HIGH' },
  critical: { cef: 10, cefLabel: 'Very-High', leef: 10, ocsfId: 5, ocsfCaption: 'Critical', ecs: 99, syslog: 2, udm: 'CRITICAL' },
};

/**
 * An out-of-contract severity (only possible if something upstream bypassed the types) is formatted as
 * `medium`, the middle of every scale: throwing would lose the incident, and guessing high or low would bias it.
 */
export const FALLBACK_SEVERITY: Severity = 'medium';

export function normalizeSeverity(value: unknown): Severity {
  return (SEVERITIES as readonly unknown[]).includes(value) ? (value as Severity) : FALLBACK_SEVERITY;
}

export function severityMapping(value: unknown): Readonly<SeverityMapping> {
  return SEVERITY_TABLE[normalizeSeverity(value)];
}

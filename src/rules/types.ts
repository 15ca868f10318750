import type { EnrichedEvent } from '../events/schema.js';
import type { UserSnapshot } from '../state/baseline.js';
import type { WindowSnapshot } from '../state/window.js';
import type { NetworkLists } from './lists.js';

/** What a rule sees: the event, its session's window and its user's baseline, right after the event. */
export interface RuleContext {
  event: EnrichedEvent;
  window: WindowSnapshot;
  /** absent when the event names no user */
  user?: UserSnapshot;
  lists: NetworkLists;
}

/** A rule's verdict when it fires; the engine turns it into a Detection with evidence. */
export interface RuleHit {
  reason: string;
  /** window fields whose values belong in the evidence */
  evidenceFields: string[];
  /** only values last seen at or after this time go into the evidence (the rule's window) */
  since?: number;
  details?: Record<string, string | number | boolean>;
}

/** Why a rule could not judge an event (counted in rg_rule_skips_total, never a silent "no"). */
export interface RuleSkip {
  skipped: string;
}

export type RuleOutcome = RuleHit | RuleSkip | undefined;

export function isSkip(o: RuleOutcome): o is RuleSkip {
  return o !== undefined && 'skipped' in o;
}

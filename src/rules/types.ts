import type { EnrichedEvent } from '../events/schema.js';
import type { WindowSnapshot } from '../state/window.js';

/** What a rule sees: the event and its session's window right after the event was recorded. */
export interface RuleContext {
  event: EnrichedEvent;
  window: WindowSnapshot;
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

// The pipeline, wired once: enrich → observe → evaluate → decide. The same object runs behind the HTTP
// worker, the BullMQ worker and `replayguard scan`; only the stores behind it differ.
import type { Enricher } from '../enrich/index.js';
import type { AuthEvent, EnrichedEvent } from '../events/schema.js';
import type { Incident } from '../incidents/model.js';
import type { IncidentStore, RecordOutcome } from '../incidents/store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { RuleEngine } from '../rules/engine.js';
import type { WindowStore } from '../state/window.js';
import { toObservation } from './observations.js';

export interface IncidentChange {
  incident: Incident;
  outcome: Exclude<RecordOutcome, 'unchanged'>;
}

export interface PipelineDeps {
  enricher: Enricher;
  windows: WindowStore;
  rules: RuleEngine;
  incidents: IncidentStore;
  metrics: Metrics;
  logger: Logger;
  /** called for every created or updated incident (emit: sinks, revocation) */
  onIncident?: (change: IncidentChange) => void | Promise<void>;
}

export interface BatchResult {
  processed: number;
  duplicates: number;
  detections: number;
  changes: IncidentChange[];
}

export class Pipeline {
  constructor(private readonly deps: PipelineDeps) {}

  get rules(): RuleEngine {
    return this.deps.rules;
  }

  async process(events: readonly AuthEvent[]): Promise<BatchResult> {
    const { enricher, windows, rules, incidents, metrics, logger } = this.deps;
    const enriched: EnrichedEvent[] = events.map((e) => enricher.enrich(e));
    const snapshots = await windows.observe(enriched.map(toObservation));
    const result: BatchResult = { processed: events.length, duplicates: 0, detections: 0, changes: [] };

    for (let i = 0; i < enriched.length; i++) {
      const event = enriched[i]!;
      const window = snapshots[i]!;
      if (window.duplicate) result.duplicates++;
      if (event.type === 'rotate' && event.new_session !== undefined) {
        await windows.linkRotation(event.new_session, event.session, event.time);
      }
      // Duplicates are evaluated too: if a worker died between observe and record, the re-delivery is
      // what records the incident. The incident store ignores a trigger event it has already absorbed.
      const { detections, failures } = rules.evaluate({ event, window });
      for (const f of failures) {
        metrics.ruleErrors.inc({ rule: f.rule });
        logger.error({ rule: f.rule, event_id: event.id, err: f.error }, 'rule evaluation failed; the other rules still ran');
      }
      for (const d of detections) {
        result.detections++;
        metrics.detections.inc({ rule: d.rule.id });
        const { incident, outcome } = await incidents.record(d);
        metrics.incidents.inc({ rule: d.rule.id, outcome });
        if (outcome === 'unchanged') continue;
        const change: IncidentChange = { incident, outcome };
        result.changes.push(change);
        await this.deps.onIncident?.(change);
      }
    }
    metrics.eventsProcessed.inc(events.length);
    if (result.duplicates > 0) metrics.eventsDuplicate.inc(result.duplicates);
    return result;
  }
}

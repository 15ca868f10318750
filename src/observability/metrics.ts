// Prometheus metrics. One registry per process (or per test app): nothing is dropped without a counter here.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly eventsReceived = new Counter({ name: 'rg_events_received_total', help: 'Events received, by ingestion path', labelNames: ['source'], registers: [this.registry] });
  readonly eventsRejected = new Counter({ name: 'rg_events_rejected_total', help: 'Events rejected at validation, by reason code', labelNames: ['reason'], registers: [this.registry] });
  readonly recordsSkipped = new Counter({ name: 'rg_records_skipped_total', help: 'Vendor records an adapter skipped (irrelevant type, no session...), by format and reason code', labelNames: ['format', 'reason'], registers: [this.registry] });
  readonly eventsProcessed = new Counter({ name: 'rg_events_processed_total', help: 'Events that went through the pipeline', registers: [this.registry] });
  readonly eventsDuplicate = new Counter({ name: 'rg_events_duplicate_total', help: 'Events whose id had been seen before for the session (re-deliveries)', registers: [this.registry] });
  readonly detections = new Counter({ name: 'rg_detections_total', help: 'Rule hits, by rule', labelNames: ['rule'], registers: [this.registry] });
  readonly incidents = new Counter({ name: 'rg_incidents_total', help: 'Incident writes, by rule and outcome (created, updated, suppressed, unchanged)', labelNames: ['rule', 'outcome'], registers: [this.registry] });
  readonly ruleSkips = new Counter({ name: 'rg_rule_skips_total', help: 'Events a rule could not judge, by rule and reason (missing_geo, no_baseline, ...)', labelNames: ['rule', 'reason'], registers: [this.registry] });
  readonly exceptionsApplied = new Counter({ name: 'rg_exceptions_applied_total', help: 'Rule hits allowed by an exception, by rule', labelNames: ['rule'], registers: [this.registry] });
  readonly ruleErrors = new Counter({ name: 'rg_rule_errors_total', help: 'Rule evaluations that threw, by rule', labelNames: ['rule'], registers: [this.registry] });
  readonly ruleLoadErrors = new Gauge({ name: 'rg_rule_load_errors', help: 'Errors in the rule files at the last load', registers: [this.registry] });
  readonly rulesLoaded = new Gauge({ name: 'rg_rules_loaded', help: 'Rules in the active rule set', registers: [this.registry] });
  readonly stateEvicted = new Counter({ name: 'rg_state_evicted_total', help: 'Live sessions and users the embedded stores dropped before their TTL because RG_MEMORY_MAX_SESSIONS / RG_MEMORY_MAX_USERS was reached, by kind (session, user)', labelNames: ['kind'], registers: [this.registry] });
  readonly ingestShed = new Counter({ name: 'rg_ingest_shed_total', help: 'Requests refused because the ingest queue was full or Redis was away', labelNames: ['reason'], registers: [this.registry] });
  readonly revocations = new Counter({ name: 'rg_revocations_total', help: 'Revocation decisions, by decision (shadow, enforce, held, manual, none) and initiator', labelNames: ['decision', 'initiated_by'], registers: [this.registry] });
  readonly revocationDeliveries = new Counter({ name: 'rg_revocation_deliveries_total', help: 'Revocation webhook/CAEP deliveries, by target and outcome (delivered, retry, dead, disabled)', labelNames: ['target', 'outcome'], registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'rg_queue_depth', help: 'Jobs waiting in a queue', labelNames: ['queue'], registers: [this.registry] });
  readonly jobsFailed = new Counter({ name: 'rg_jobs_failed_total', help: 'Queue jobs that failed an attempt', labelNames: ['queue'], registers: [this.registry] });
  readonly deliveries = new Counter({ name: 'rg_deliveries_total', help: 'Incident deliveries to sinks, by sink and outcome (enqueued, delivered, retried, dead, redriven, dropped)', labelNames: ['sink', 'outcome'], registers: [this.registry] });
  readonly deadLetters = new Gauge({ name: 'rg_delivery_dead_letters', help: 'Deliveries in the dead-letter set, waiting for `replayguard deliveries retry`', registers: [this.registry] });
  readonly processingLag = new Histogram({
    name: 'rg_processing_lag_seconds',
    help: 'Time from an event batch being accepted to its decisions being stored',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'rg_process_' });
  }
}

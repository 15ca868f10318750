// `replayguard rules test`: every rule ships with test cases beside it (<rule file>.test.yaml): events in,
// expected incidents out, including cases that must not fire. Each case runs through the real pipeline,
// embedded, with only the rule under test loaded (plus the lists), so a case tests that rule alone.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import { z } from 'zod';
import { createEnricher, type Enricher } from '../enrich/index.js';
import { normalizeOne, SessionHasher } from '../events/normalize.js';
import type { Incident } from '../incidents/model.js';
import { MemoryIncidentStore } from '../incidents/memory-store.js';
import { Metrics } from '../observability/metrics.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { MemoryBaselineStore } from '../state/memory/baseline-store.js';
import { MemoryWindowStore } from '../state/memory/window-store.js';
import { parseOffset } from './duration.js';
import { RuleEngine } from './engine.js';
import { formatRuleError, loadRuleDir, type LoadedRule, type RuleLoadError } from './loader.js';
import type { NetworkLists } from './lists.js';
import { parseYamlWithPositions } from './yaml.js';

const offset = z.union([z.string(), z.number()]).refine((v) => parseOffset(v) !== undefined, 'an offset such as 5m, -10d or 90s');

const expectSchema = z.strictObject({
  /** the raw session id used in the case's events */
  session: z.string().min(1),
  count: z.number().int().min(1).optional(),
  severity: z.string().optional(),
  monitor: z.boolean().optional(),
  suppressed: z.number().int().min(0).optional(),
  /** a substring of the incident's reason */
  reason: z.string().optional(),
});

const caseSchema = z.strictObject({
  name: z.string().min(1),
  /** fields every event of the case has unless it sets them */
  defaults: z.record(z.string(), z.unknown()).default({}),
  /** the time `at` offsets count from */
  start: z.string().default('2026-11-23T09:00:00Z'),
  events: z.array(z.record(z.string(), z.unknown()).and(z.object({ at: offset.optional() }))).min(1),
  /** incidents of the rule under test; [] means the rule must not fire */
  expect: z.array(expectSchema),
});

const testFileSchema = z.strictObject({ cases: z.array(caseSchema).min(1) });
export type RuleTestCase = z.output<typeof caseSchema>;

export interface CaseResult {
  rule: string;
  file: string;
  name: string;
  passed: boolean;
  /** why it failed */
  problems: string[];
  mustNotFire: boolean;
}

export interface RuleTestReport {
  results: CaseResult[];
  /** rules without a test file, or without both a firing and a must-not-fire case */
  untested: string[];
  errors: RuleLoadError[];
}

const TEST_KEY = 'replayguard-rule-tests-fixed-key-0123456789';

export function testFileFor(ruleFile: string): string {
  return ruleFile.replace(/\.ya?ml$/, '.test.yaml');
}

async function runCase(rule: LoadedRule, lists: NetworkLists, c: RuleTestCase, enricher: Enricher): Promise<CaseResult> {
  const problems: string[] = [];
  const hasher = new SessionHasher(TEST_KEY);
  const incidents = new MemoryIncidentStore((d) => d.time);
  const pipeline = new Pipeline({
    enricher,
    windows: new MemoryWindowStore(),
    baselines: new MemoryBaselineStore(),
    rules: new RuleEngine([rule], lists, () => Date.parse(c.start)),
    incidents,
    metrics: new Metrics(),
    logger: pino({ level: 'silent' }),
  });
  const start = Date.parse(c.start);
  const touched = new Set<string>();
  for (const [i, raw] of c.events.entries()) {
    const { at, ...fields } = raw as { at?: string | number } & Record<string, unknown>;
    const input: Record<string, unknown> = { ...c.defaults, ...fields };
    if (at !== undefined) input.time = new Date(start + parseOffset(at)!).toISOString();
    input.id ??= `case-event-${i + 1}`;
    const n = normalizeOne(input, hasher);
    if (!n.ok) {
      problems.push(`event ${i + 1} is invalid: ${n.message}`);
      continue;
    }
    const result = await pipeline.process([n.event]);
    for (const ch of result.changes) touched.add(ch.incident.id);
  }
  const found: Incident[] = [];
  for (const id of touched) {
    const inc = await incidents.get(id);
    if (inc) found.push(inc);
  }
  const bySession = new Map(found.map((i) => [i.session, i]));
  const expectedSessions = new Set<string>();
  for (const exp of c.expect) {
    const session = hasher.hash(String(c.defaults.tenant ?? c.events[0]?.tenant ?? 'default'), exp.session);
    expectedSessions.add(session);
    const inc = bySession.get(session);
    if (!inc) {
      problems.push(`expected an incident for session "${exp.session}", got none`);
      continue;
    }
    if (exp.count !== undefined && inc.count !== exp.count) problems.push(`session "${exp.session}": count ${inc.count}, expected ${exp.count}`);
    if (exp.severity !== undefined && inc.severity !== exp.severity) problems.push(`session "${exp.session}": severity ${inc.severity}, expected ${exp.severity}`);
    if (exp.monitor !== undefined && inc.monitor !== exp.monitor) problems.push(`session "${exp.session}": monitor ${inc.monitor}, expected ${exp.monitor}`);
    if (exp.suppressed !== undefined && inc.suppressed !== exp.suppressed) problems.push(`session "${exp.session}": suppressed ${inc.suppressed}, expected ${exp.suppressed}`);
    if (exp.reason !== undefined && !inc.evidence.reason.includes(exp.reason)) problems.push(`session "${exp.session}": reason "${inc.evidence.reason}" lacks "${exp.reason}"`);
  }
  for (const inc of found) {
    if (!expectedSessions.has(inc.session)) problems.push(`unexpected incident: ${inc.evidence.reason}`);
  }
  return { rule: rule.rule.id, file: rule.file, name: c.name, passed: problems.length === 0, problems, mustNotFire: c.expect.length === 0 };
}

export async function runRuleTests(dir: string): Promise<RuleTestReport> {
  const loaded = await loadRuleDir(dir);
  const report: RuleTestReport = { results: [], untested: [], errors: [...loaded.errors] };
  const enricher = await createEnricher();
  for (const rule of loaded.rules) {
    const testFile = testFileFor(rule.file);
    if (!existsSync(testFile)) {
      report.untested.push(`${rule.rule.id}: no test file ${testFile}`);
      continue;
    }
    const parsed = parseYamlWithPositions(await readFile(testFile, 'utf8'), testFile, testFileSchema);
    if (!parsed.value) {
      report.errors.push(...parsed.errors);
      continue;
    }
    const cases = parsed.value.cases;
    if (!cases.some((c) => c.expect.length > 0) || !cases.some((c) => c.expect.length === 0)) {
      report.untested.push(`${rule.rule.id}: needs at least one case that fires and one that must not fire`);
    }
    for (const c of cases) report.results.push(await runCase(rule, loaded.lists, c, enricher));
  }
  return report;
}

export function formatReport(report: RuleTestReport): string {
  const lines: string[] = [];
  for (const e of report.errors) lines.push(`ERROR ${formatRuleError(e)}`);
  for (const r of report.results) {
    lines.push(`${r.passed ? 'PASS' : 'FAIL'} ${r.rule} :: ${r.name}`);
    for (const p of r.problems) lines.push(`     ${p}`);
  }
  for (const u of report.untested) lines.push(`UNTESTED ${u}`);
  const passed = report.results.filter((r) => r.passed).length;
  lines.push(`${passed} passed, ${report.results.length - passed} failed`);
  return lines.join('\n');
}

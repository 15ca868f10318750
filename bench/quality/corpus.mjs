#!/usr/bin/env node
// The vendor corpus through the real adapters and the real pipeline, once: which of the labelled cases does
// the shipped rule pack catch?
//
//   node bench/quality/corpus.mjs [--no-write]      (needs dist/: npm run build)
//
// Inputs: the Okta, Entra (Azure.Audit), Auth0 and CloudTrail files of test/fixtures/corpus/ (Panther's rule
// test events by log type, and OTRF's stolen-role-credentials CloudTrail dataset), with the labels of
// /work/shared/corpus/panther-analysis/panther_rule_tests_extracted.jsonl and panther_test_scenarios_extracted.jsonl
// (or $RG_CORPUS_DIR). Each labelled rule test is one event and runs alone in a fresh embedded pipeline (the
// tests of different rules reuse the same users and session ids; streaming them together would invent
// sessions); each scenario and the OTRF dataset run as one time-ordered stream. The labelled cases whose label
// assumes earlier state run again with that state (test/fixtures/corpus/panther-analysis/prior-state/), each alone
// through the installed `replayguard scan`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createEnricher } from '../../dist/enrich/index.js';
import { convertRecord, unwrapBatch } from '../../dist/events/adapters/index.js';
import { normalizeOne, SessionHasher } from '../../dist/events/normalize.js';
import { MemoryIncidentStore } from '../../dist/incidents/memory-store.js';
import { Metrics } from '../../dist/observability/metrics.js';
import { Pipeline } from '../../dist/pipeline/pipeline.js';
import { RuleEngine } from '../../dist/rules/engine.js';
import { loadRuleDir } from '../../dist/rules/loader.js';
import { MemoryBaselineStore } from '../../dist/state/memory/baseline-store.js';
import { MemoryWindowStore } from '../../dist/state/memory/window-store.js';
import { replaceRegion } from './report.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = join(ROOT, 'test/fixtures/corpus');
const LABELS = process.env.RG_CORPUS_DIR ?? '/work/shared/corpus/panther-analysis';
const OUR_LOG_TYPES = new Set(['Okta.SystemLog', 'Azure.Audit', 'Auth0.Events', 'AWS.CloudTrail']);
const KEY = 'replayguard-corpus-bench-fixed-key-0123456789';

const readJsonl = (file) => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));

const pack = await loadRuleDir(join(ROOT, 'rules'));
if (pack.errors.length > 0) throw new Error(`rule pack has errors: ${pack.errors.map((e) => e.message).join('; ')}`);
const enricher = await createEnricher();
const hasher = new SessionHasher(KEY);

/** Converts vendor records; returns canonical inputs and the skip reasons. */
function convert(records) {
  const events = [];
  const skipped = {};
  for (const rec of records) {
    for (const r of unwrapBatch(rec)) {
      const res = convertRecord(r, 'auto');
      if (res.ok) events.push(res.event);
      else skipped[res.skip] = (skipped[res.skip] ?? 0) + 1;
    }
  }
  return { events, skipped };
}

/** Runs canonical inputs, in time order, through a fresh embedded pipeline; returns the incidents. */
async function run(inputs) {
  const pipeline = new Pipeline({
    enricher,
    windows: new MemoryWindowStore(),
    baselines: new MemoryBaselineStore(),
    rules: new RuleEngine(pack.rules, pack.lists),
    incidents: new MemoryIncidentStore((d) => d.time),
    metrics: new Metrics(),
    logger: pino({ level: 'silent' }),
  });
  const events = [];
  const rejected = [];
  for (const input of inputs) {
    const n = normalizeOne(input, hasher);
    if (n.ok) events.push({ event: n.event, input });
    else rejected.push(n.code);
  }
  events.sort((a, b) => a.event.time - b.event.time);
  const incidents = new Map();
  const byId = new Map(events.map((e) => [e.event.id, e.input]));
  for (const { event } of events) {
    const res = await pipeline.process([event]);
    for (const ch of res.changes) {
      const inc = ch.incident;
      const prev = incidents.get(inc.id);
      incidents.set(inc.id, { rule: inc.rule.id, severity: inc.severity, monitor: inc.monitor, reason: inc.evidence.reason, triggers: [...(prev?.triggers ?? []), byId.get(event.id)] });
    }
  }
  return { incidents: [...incidents.values()], processed: events.length, rejected };
}

const cell = (s) => String(s).replace(/\|/g, '\\|');
const out = [];
const table = (head, rows) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');

// ---- A. adapter coverage of the fixture files --------------------------------------------------------
const files = [
  ['Okta System Log (Panther tests)', 'panther-analysis/by_logtype/Okta.SystemLog.tests.jsonl'],
  ['Entra ID / Azure (Panther tests)', 'panther-analysis/by_logtype/Azure.Audit.tests.jsonl'],
  ['Auth0 (Panther tests)', 'panther-analysis/by_logtype/Auth0.Events.tests.jsonl'],
  ['CloudTrail sign-in (Panther tests)', 'panther-analysis/by_logtype/AWS.CloudTrail.tests.jsonl'],
  ['CloudTrail, stolen EC2 role credentials (OTRF)', 'otrf-security-datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json'],
];
const coverage = [];
const singles = [];
for (const [name, rel] of files) {
  const rows = readJsonl(join(FIXTURES, rel));
  const records = rows.map((r) => (r.log !== undefined && r.rule_id !== undefined ? r.log : r));
  const { events, skipped } = convert(records);
  const types = {};
  for (const e of events) types[e.type] = (types[e.type] ?? 0) + 1;
  coverage.push([name, records.length, events.length, Object.entries(types).map(([k, v]) => `${k} ${v}`).join(', ') || '–', Object.entries(skipped).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') || '–']);
  // Every Panther test event alone: which raise an incident by themselves?
  if (rel.startsWith('panther-analysis/')) {
    for (const r of rows) {
      const c = convert([r.log]);
      if (c.events.length === 0) continue;
      const { incidents } = await run(c.events);
      for (const inc of incidents) singles.push([name.split(' (')[0], r.rule_id, r.test_name, r.expected_result, `${inc.rule}${inc.monitor ? ' (monitor)' : ''}`]);
    }
  }
}
out.push('### Adapter coverage');
out.push('');
out.push(table(['file', 'records', 'converted', 'event types', 'skipped (reason)'], coverage));
out.push('');
out.push(`Single Panther test events that raise an incident on their own: ${singles.length === 0 ? 'none' : ''}`);
if (singles.length > 0) {
  out.push('');
  out.push(table(['source', 'Panther rule', 'test', 'Panther expects', 'our incident'], singles));
}

// ---- B. the labelled rule tests relevant to session theft -----------------------------------------------
const ruleTests = existsSync(join(LABELS, 'panther_rule_tests_extracted.jsonl')) ? readJsonl(join(LABELS, 'panther_rule_tests_extracted.jsonl')) : [];
const labelled = [];
const tally = { caught: 0, missed: 0, quiet: 0, falseAlarm: 0 };
for (const t of ruleTests) {
  const logType = t.log?.p_log_type ?? t.log_types?.[0];
  if (!OUR_LOG_TYPES.has(logType)) continue;
  const c = convert([t.log]);
  const adapted = c.events.length > 0 ? c.events.map((e) => `${e.type}${e.signals ? ` [${e.signals.join(',')}]` : ''}`).join(', ') : `skipped: ${Object.keys(c.skipped).join(', ')}`;
  const { incidents } = c.events.length > 0 ? await run(c.events) : { incidents: [] };
  const alerts = incidents.filter((i) => !i.monitor);
  const fired = incidents.map((i) => `${i.rule}${i.monitor ? ' (monitor)' : ''}`).join(', ') || '–';
  let verdict;
  if (t.expected_result) verdict = alerts.length > 0 ? 'caught' : 'missed';
  else verdict = alerts.length > 0 ? 'alert on a negative' : 'quiet (correct)';
  if (verdict === 'caught') tally.caught++;
  else if (verdict === 'missed') tally.missed++;
  else if (verdict === 'quiet (correct)') tally.quiet++;
  else tally.falseAlarm++;
  labelled.push([t.rule_id, t.test_name, t.expected_result ? 'alert' : 'no alert', t.mocks ? 'yes' : '', adapted, fired, verdict]);
}
out.push('');
out.push('### Panther rule tests (Okta, Entra, Auth0, CloudTrail): each labelled event alone');
out.push('');
out.push(table(['Panther rule', 'test', 'Panther expects', 'needs mocked state', 'adapter gives', 'our incidents', 'verdict'], labelled));
out.push('');
out.push(`${tally.caught} of ${tally.caught + tally.missed} positives caught, ${tally.quiet} of ${tally.quiet + tally.falseAlarm} negatives quiet.`);

// ---- B2. the labelled cases whose label assumes earlier state, with that state, through `replayguard scan` ----------
// test/fixtures/corpus/panther-analysis/prior-state/ holds, per case, the prior record(s) the mock stands for and the
// labelled record (README.md there explains each). Each file runs alone through the installed command with the
// shipped rules, exactly as test/e2e/corpus-prior-state.e2e.test.ts runs it.
{
  const dir = join(FIXTURES, 'panther-analysis/prior-state');
  const cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8'));
  const rows = [];
  const t2 = { caught: 0, missed: 0, quiet: 0, falseAlarm: 0 };
  for (const c of cases) {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/replayguard.js'), 'scan', '--format', 'auto', '--rules', join(ROOT, 'rules'), join(dir, c.file)], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', RG_SESSION_KEY: KEY },
    });
    if (r.status !== 0) throw new Error(`scan ${c.file} exited ${r.status}: ${r.stderr}`);
    const summaryLine = r.stderr.split('\n').find((l) => l.startsWith('replayguard scan: {'));
    const summary = JSON.parse(summaryLine.slice('replayguard scan: '.length));
    const incidents = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
    const alerts = incidents.filter((i) => !i.monitor);
    const labelled = readFileSync(join(dir, c.file), 'utf8').trim().split('\n').at(-1);
    const own = convert([JSON.parse(labelled)]);
    const adapted = own.events.length > 0 ? own.events.map((e) => e.type).join(', ') : `skipped: ${Object.keys(own.skipped).join(', ')}`;
    let verdict;
    if (c.panther_expects) verdict = alerts.length > 0 ? 'caught' : 'missed';
    else verdict = alerts.length > 0 ? 'alert on a negative' : 'quiet (correct)';
    t2[{ caught: 'caught', missed: 'missed', 'quiet (correct)': 'quiet' }[verdict] ?? 'falseAlarm']++;
    // By rule id: the scan writes incidents in the order they close, which says nothing here.
    const fired = incidents.map((i) => `${i.rule.id}${i.monitor ? ' (monitor)' : ''}`).sort().join(', ') || '–';
    rows.push([c.rule_id, c.test_name, c.panther_expects ? 'alert' : 'no alert', c.prior, `${summary.events_accepted} of ${summary.events_read}`, adapted, fired, verdict]);
  }
  out.push('');
  out.push('### Labelled cases with their prior state, through scan');
  out.push('');
  out.push('Each case alone through `replayguard scan --format auto` with the shipped rules: the earlier record(s) its label assumes, then the labelled record (test/fixtures/corpus/panther-analysis/prior-state/).');
  out.push('');
  out.push(table(['Panther rule', 'test', 'Panther expects', 'prior state given', 'events accepted', 'labelled record gives', 'our incidents', 'verdict'], rows));
  out.push('');
  out.push(`${t2.caught} of ${t2.caught + t2.missed} positives caught, ${t2.quiet} of ${t2.quiet + t2.falseAlarm} negatives quiet.`);
}

// ---- C. the multi-event scenarios --------------------------------------------------------------------
const scen = existsSync(join(LABELS, 'panther_test_scenarios_extracted.jsonl')) ? readJsonl(join(LABELS, 'panther_test_scenarios_extracted.jsonl')) : [];
const byScenario = new Map();
for (const s of scen) (byScenario.get(s.scenario) ?? byScenario.set(s.scenario, []).get(s.scenario)).push(s);
const scenRows = [];
for (const [name, rows] of byScenario) {
  const inputs = [];
  const roleOf = new Map();
  const skipped = {};
  for (const r of rows) {
    const c = convert([r.log]);
    for (const e of c.events) {
      inputs.push(e);
      roleOf.set(e, r.role_label);
    }
    for (const [k, v] of Object.entries(c.skipped)) skipped[k] = (skipped[k] ?? 0) + v;
  }
  const { incidents, processed } = await run(inputs);
  const roles = [...new Set(rows.map((r) => r.role_label))].map((role) => `${role} ${rows.filter((r) => r.role_label === role).length}`).join(', ');
  const fired = incidents.map((i) => `${i.rule} on ${[...new Set(i.triggers.map((t) => roleOf.get(t)))].join('/')} events${i.monitor ? ' (monitor)' : ''}`).join('; ') || 'none';
  scenRows.push([name, roles, `${processed} (${Object.entries(skipped).map(([k, v]) => `${k} ${v}`).join(', ') || 'none skipped'})`, fired]);
}
out.push('');
out.push('### Panther test scenarios: each as one time-ordered stream');
out.push('');
out.push(table(['scenario', 'records by role', 'events through the pipeline', 'incidents'], scenRows));

// ---- D. OTRF: stolen EC2 role credentials replayed with aws-cli -----------------------------------------
{
  const recs = readJsonl(join(FIXTURES, 'otrf-security-datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json'));
  const attackerKey = 'ASIA5FLZVX4OPVKKVBMX';
  const inputs = [];
  const attacker = new Set();
  for (const r of recs) {
    const c = convert([r]);
    for (const e of c.events) {
      inputs.push(e);
      if (r.userIdentity?.accessKeyId === attackerKey) attacker.add(e);
    }
  }
  const { incidents, processed } = await run(inputs);
  out.push('');
  out.push('### OTRF: stolen EC2 instance-role credentials used with aws-cli (one stream)');
  out.push('');
  out.push(`${recs.length} records, ${processed} events through the pipeline, ${inputs.filter((e) => attacker.has(e)).length} of them the attacker's (access key ${attackerKey}). Incidents: ${incidents.length === 0 ? 'none' : incidents.map((i) => `${i.rule}${i.monitor ? ' (monitor)' : ''} on ${i.triggers.some((t) => attacker.has(t)) ? "the attacker's" : 'benign'} events: ${i.reason}`).join('; ')}.`);
}

const report = out.join('\n');
process.stdout.write(`${report}\n`);
if (!process.argv.includes('--no-write')) {
  const file = join(ROOT, 'docs/quality.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Measured quality\n';
  writeFileSync(file, replaceRegion(text, 'bench:corpus', report));
  process.stderr.write(`wrote ${file}\n`);
}

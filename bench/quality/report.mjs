// Markdown tables of a scored run, for the console and for docs/quality.md.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ATTACK_DESCRIPTIONS } from './attacks.mjs';
import { BENIGN_CLASSES, BENIGN_DESCRIPTIONS } from './sessions.mjs';

const require = createRequire(import.meta.url);

function version(pkg) {
  try {
    return JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')).version;
  } catch {
    return '?';
  }
}

const pct = (x) => (x === undefined ? '–' : x.toFixed(3));
const rate = (x) => (x === undefined ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const num = (x, d = 0) => (x === undefined ? '–' : Number(x).toFixed(d));
const ttd = (b) => (b.ttdEvents === undefined ? '–' : `${num(b.ttdEvents)} / ${fmtSeconds(b.ttdSeconds)}`);
const p90 = (b) => (b.p90Events === undefined ? '–' : `${num(b.p90Events)} / ${fmtSeconds(b.p90Seconds)}`);

function fmtSeconds(s) {
  if (s === undefined) return '–';
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function table(head, rows) {
  return [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function renderReport(run, s, { command }) {
  const o = run.options;
  const [rules, ipChange, travel] = s.detectors;
  const out = [];
  out.push(`Seed \`${o.seed}\`, ${o.users} users (2 tenants, 16 offices in 7 countries), ${o.days} days (the first ${o.warmup} are a warm-up in which user baselines form; attacks and the benign figures are from the ${o.days - o.warmup} measured days), ${o.attacks} attacks per class. ${run.events.toLocaleString('en-US')} events in ${run.labels.length.toLocaleString('en-US')} sessions; ${s.counts.measured.toLocaleString('en-US')} benign sessions measured, ${s.counts.attacks} attack sessions. Rule pack: the ${run.rules.length} enabled rules of \`rules/\`. Data: @ip-location-db/asn ${version('@ip-location-db/asn')}, geoip-lite ${version('geoip-lite')}, ua-parser-js ${version('ua-parser-js')}. Reproduce: \`${command}\`.`);
  out.push('');
  out.push('### Attacks: recall and median time to detect (events / time after the first malicious event)');
  out.push('');
  out.push(table(
    ['attack class', 'sessions', `rule pack recall`, 'rule pack TTD median', 'TTD p90', `${ipChange} recall`, 'TTD median', `${travel} recall`, 'TTD median'],
    s.attackRows.map((r) => [r.cls, r.sessions, pct(r.by[0].recall), ttd(r.by[0]), p90(r.by[0]), pct(r.by[1].recall), ttd(r.by[1]), pct(r.by[2].recall), ttd(r.by[2])]),
  ));
  out.push('');
  out.push('### Benign life: false alerts per 1,000 sessions (measured period)');
  out.push('');
  out.push(table(
    ['benign class', 'sessions', 'rule pack: false incidents /1k', 'sessions alerted /1k', 'monitor-mode incidents /1k', `${ipChange}: sessions /1k`, `${travel}: sessions /1k`],
    [...s.benignRows, s.benignNoTravel, s.benignAll].map((r) => [r.cls, r.sessions, rate(r.fpPer1000), rate(r.by[0].sessionsPer1000), rate(r.monitorPer1000), rate(r.by[1].sessionsPer1000), rate(r.by[2].sessionsPer1000)]),
  ));
  out.push('');
  out.push(`Warm-up days (baselines still forming): ${s.warmupAll.sessions.toLocaleString('en-US')} benign sessions, ${rate(s.warmupAll.fpPer1000)} false incidents /1k, ${rate(s.warmupAll.monitorPer1000)} monitor-mode incidents /1k.`);
  out.push('');
  out.push('### Overall');
  out.push('');
  out.push(table(
    ['detector', 'recall (all attacks)', 'precision (sessions)', 'benign sessions alerted /1k'],
    s.overall.map((r) => [r.name === 'rules' ? 'rule pack' : r.name, pct(r.recall), pct(r.sessionPrecision), rate(r.fpSessionsPer1000)]),
  ));
  out.push('');
  out.push(`Rule pack, by incident: ${s.tp} true-positive incidents, ${s.fpMeasured} false-positive incidents on measured benign sessions${s.collateral ? ` (${s.collateral} of them on a victim's own other session while the attack was under way)` : ''}, ${s.fpPre} on attack sessions before the attack began: **precision ${pct(s.incidentPrecision)}**, **${rate(s.benignAll.fpPer1000)} false incidents per 1,000 benign sessions**. Monitor-mode incidents (recorded for review, not alerts): ${s.monitor.onBenign} on benign sessions, ${s.monitor.onAttacks} on attack sessions. Attack sessions are ${((100 * s.counts.attacks) / (s.counts.attacks + s.counts.measured)).toFixed(1)}% of the measured sessions; precision depends on that base rate, false alerts per 1,000 benign sessions do not.`);
  out.push('');
  out.push('### Per rule');
  out.push('');
  out.push(table(
    ['rule', 'true-positive incidents', 'false-positive incidents', 'false (warm-up)', 'monitor-only', 'attack sessions caught', '…caught by this rule alone'],
    s.ruleRows.map((r) => [r.rule, r.tp, r.fp, r.fpWarmup, r.monitor, r.sessionsCaught, r.onlyCatcher]),
  ));
  const fpDetail = s.benignRows.filter((r) => r.fpIncidents > 0).map((r) => `${r.cls}: ${Object.entries(r.fpRules).sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (fpDetail.length > 0) {
    out.push('');
    out.push(`False incidents by class and rule: ${fpDetail.join('; ')}.`);
  }
  const missDetail = s.attackRows.filter((r) => Object.keys(r.missed).length > 0).map((r) => `${r.cls}: ${Object.entries(r.missed).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (missDetail.length > 0) {
    out.push('');
    out.push(`Missed attack sessions by how the attacker operated: ${missDetail.join('; ')}.`);
  }
  return out.join('\n');
}

export function renderClasses() {
  const out = [];
  out.push('| benign class (in labelling order) | what the simulator does |', '|---|---|');
  for (const k of BENIGN_CLASSES) out.push(`| ${k} | ${BENIGN_DESCRIPTIONS[k]} |`);
  out.push('');
  out.push('| attack class | what the simulator does |', '|---|---|');
  for (const [k, v] of Object.entries(ATTACK_DESCRIPTIONS)) out.push(`| ${k} | ${v} |`);
  return out.join('\n');
}

/** How long the run took (printed, not written to the docs: it depends on the machine and its load). */
export function renderRuntime(run) {
  return `Runtime: ${(run.timings.setupMs / 1000).toFixed(1)} s setup (address pools, rules), ${(run.timings.pipelineMs / 1000).toFixed(1)} s simulation and pipeline (${Math.round(run.events / (run.timings.pipelineMs / 1000)).toLocaleString('en-US')} events/s, ${run.shards ?? 1} worker(s)).`;
}

/** Replaces the text between `<!-- name:begin -->` and `<!-- name:end -->` in a file (appends if absent). */
export function replaceRegion(text, name, body) {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${begin}\n${body}\n${end}`;
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a === -1 || b === -1) return `${text.trimEnd()}\n\n${block}\n`;
  return text.slice(0, a) + block + text.slice(b + end.length);
}

// Turns a run's books into the figures: per attack class recall and time to detect, per benign class false
// incidents per 1,000 sessions, precision, for the rule pack and for the two baselines.
//
// Definitions (also in docs/quality.md):
// - An attack session is detected when an alert (not monitor mode; created or updated, not suppressed) is
//   raised on it by an event at or after its first malicious event. Time to detect counts the session's
//   events from the first malicious one to the triggering one (1 = the first malicious event itself) and the
//   seconds between them.
// - An incident is a true positive when its first alert is on an attack session at or after the first
//   malicious event; any other alert incident is a false positive (benign sessions, and attack sessions
//   before the attack began). Incidents that never left monitor mode are counted apart: they are not alerts.
// - Benign rates are over the measured period (after the warm-up that lets user baselines form); the
//   warm-up is reported on its own line.
import { ATTACK_CLASSES } from './attacks.mjs';
import { BENIGN_CLASSES } from './sessions.mjs';

function median(xs) {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function quantile(xs, q) {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

function per1000(n, d) {
  return d === 0 ? undefined : (1000 * n) / d;
}

const after = (l, seq) => l.firstMalSeq !== undefined && seq >= l.firstMalSeq;

export function score(run) {
  const { labels, incidents, baselineNames } = run;
  const attacks = labels.filter((l) => l.kind === 'attack' && l.firstMalSeq !== undefined);
  const measured = labels.filter((l) => l.kind === 'benign' && l.measured);
  const warmup = labels.filter((l) => l.kind === 'benign' && !l.measured);
  const attacksByUser = new Map();
  for (const a of attacks) (attacksByUser.get(a.userIndex) ?? attacksByUser.set(a.userIndex, []).get(a.userIndex)).push(a);

  for (const inc of incidents) {
    const l = inc.label;
    if (inc.monitorOnly) inc.verdict = 'monitor';
    else if (l.kind === 'attack' && after(l, inc.alert.seq)) inc.verdict = 'tp';
    else inc.verdict = 'fp';
    // A user-level rule may fire on the victim's own other session because of the attacker's activity.
    inc.collateral = inc.verdict === 'fp' && l.kind === 'benign' && (attacksByUser.get(l.userIndex) ?? []).some((a) => inc.alert.time >= a.firstMalTime && inc.alert.time <= a.firstMalTime + 86_400_000);
    if (l.kind === 'benign') {
      if (inc.verdict === 'fp') (l.fp ??= []).push(inc);
      if (inc.verdict === 'monitor') (l.monitor ??= []).push(inc);
    } else if (inc.verdict === 'fp') (l.preFp ??= []).push(inc);
  }

  const detectors = ['rules', ...baselineNames];
  /** per detector: how it saw a label */
  const view = (l, d) => {
    if (d === 0) return { post: l.detected, anyAlert: (l.fp?.length ?? 0) > 0 || (l.preFp?.length ?? 0) > 0 || l.detected !== undefined, pre: (l.preFp?.length ?? 0) > 0 };
    const b = l.baseline?.[d - 1] ?? {};
    return { post: b.post, anyAlert: b.any !== undefined, pre: b.pre !== undefined };
  };

  const attackRows = ATTACK_CLASSES.map((cls) => {
    const ls = attacks.filter((l) => l.cls === cls);
    const row = { cls, sessions: ls.length, by: [] };
    for (let d = 0; d < detectors.length; d++) {
      const hits = ls.map((l) => ({ l, v: view(l, d).post })).filter((x) => x.v !== undefined);
      const ev = hits.map((x) => x.v.seq - x.l.firstMalSeq + 1);
      const sec = hits.map((x) => (x.v.time - x.l.firstMalTime) / 1000);
      row.by.push({
        recall: ls.length ? hits.length / ls.length : undefined,
        ttdEvents: median(ev),
        ttdSeconds: median(sec),
        p90Events: quantile(ev, 0.9),
        p90Seconds: quantile(sec, 0.9),
      });
    }
    // which rules caught these sessions (after the attack began)
    row.rules = {};
    for (const l of ls) for (const r of l.rulesHit ?? []) row.rules[r] = (row.rules[r] ?? 0) + 1;
    // how the misses were made
    row.missed = {};
    for (const l of ls) if (!l.detected) row.missed[l.how ?? '?'] = (row.missed[l.how ?? '?'] ?? 0) + 1;
    return row;
  });

  const benignRow = (cls, ls) => {
    const row = { cls, sessions: ls.length, by: [] };
    const fpInc = ls.reduce((n, l) => n + (l.fp?.length ?? 0), 0);
    row.fpIncidents = fpInc;
    row.fpPer1000 = per1000(fpInc, ls.length);
    row.monitorPer1000 = per1000(ls.reduce((n, l) => n + (l.monitor?.length ?? 0), 0), ls.length);
    row.fpRules = {};
    for (const l of ls) for (const inc of l.fp ?? []) row.fpRules[inc.rule] = (row.fpRules[inc.rule] ?? 0) + 1;
    for (let d = 0; d < detectors.length; d++) {
      const alerted = ls.filter((l) => view(l, d).anyAlert).length;
      row.by.push({ sessionsAlerted: alerted, sessionsPer1000: per1000(alerted, ls.length) });
    }
    return row;
  };
  const benignRows = BENIGN_CLASSES.map((cls) => benignRow(cls, measured.filter((l) => l.cls === cls)));
  const benignAll = benignRow('all benign (measured)', measured);
  const everyday = new Set(['plane-travel', 'train-travel', 'corporate-vpn']);
  const benignNoTravel = benignRow('everyday life (all but travel and corporate VPN)', measured.filter((l) => !everyday.has(l.cls)));
  const warmupAll = benignRow('all benign (warm-up)', warmup);

  const overall = detectors.map((name, d) => {
    const detected = attacks.filter((l) => view(l, d).post !== undefined).length;
    const preOnly = attacks.filter((l) => view(l, d).post === undefined && view(l, d).pre).length;
    const fpSessions = measured.filter((l) => view(l, d).anyAlert).length;
    return {
      name,
      recall: detected / attacks.length,
      sessionPrecision: detected + preOnly + fpSessions === 0 ? undefined : detected / (detected + preOnly + fpSessions),
      fpSessionsPer1000: per1000(fpSessions, measured.length),
    };
  });

  const tp = incidents.filter((i) => i.verdict === 'tp').length;
  const fpMeasured = measured.reduce((n, l) => n + (l.fp?.length ?? 0), 0);
  const fpPre = attacks.reduce((n, l) => n + (l.preFp?.length ?? 0), 0);
  const collateral = incidents.filter((i) => i.collateral && i.label.measured).length;
  const monitor = incidents.filter((i) => i.verdict === 'monitor');

  const ruleRows = run.rules.map((rule) => {
    const mine = incidents.filter((i) => i.rule === rule);
    return {
      rule,
      tp: mine.filter((i) => i.verdict === 'tp').length,
      fp: mine.filter((i) => i.verdict === 'fp' && (i.label.kind === 'attack' || i.label.measured)).length,
      fpWarmup: mine.filter((i) => i.verdict === 'fp' && i.label.kind === 'benign' && !i.label.measured).length,
      monitor: mine.filter((i) => i.verdict === 'monitor').length,
      sessionsCaught: attacks.filter((l) => l.rulesHit?.has(rule)).length,
      onlyCatcher: attacks.filter((l) => l.rulesHit?.size === 1 && l.rulesHit.has(rule)).length,
    };
  });

  return {
    detectors,
    attackRows,
    benignRows,
    benignAll,
    benignNoTravel,
    warmupAll,
    overall,
    incidentPrecision: tp + fpMeasured + fpPre === 0 ? undefined : tp / (tp + fpMeasured + fpPre),
    tp,
    fpMeasured,
    fpPre,
    collateral,
    monitor: { incidents: monitor.length, onAttacks: monitor.filter((i) => i.label.kind === 'attack').length, onBenign: monitor.filter((i) => i.label.kind === 'benign').length },
    counts: { attacks: attacks.length, measured: measured.length, warmup: warmup.length },
    ruleRows,
  };
}

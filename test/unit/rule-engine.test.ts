// The engine's decisions around the evaluators: exceptions (with expiry), baselines and cold start,
// where filters on list-valued fields, and rule failures isolated from the other rules.
import { describe, expect, it } from 'vitest';
import type { EnrichedEvent } from '../../src/events/schema.js';
import { RuleEngine } from '../../src/rules/engine.js';
import { parseRuleText } from '../../src/rules/loader.js';
import type { UserSnapshot } from '../../src/state/baseline.js';
import type { WindowSnapshot } from '../../src/state/window.js';

const NOW = Date.UTC(2026, 10, 23, 12);

function rule(text: string) {
  const r = parseRuleText(text, 'x.yaml');
  if (!r.rule) throw new Error(JSON.stringify(r.errors));
  return { rule: r.rule, file: 'x.yaml' };
}

const MATCH = `id: any-request\ntitle: Any request\nseverity: low\ntype: match\nwhere: { type: request }\n`;

function event(over: Partial<EnrichedEvent> = {}): EnrichedEvent {
  return {
    id: 'e1', time: NOW, type: 'request', session: 'a'.repeat(32), tenant: 'acme', user: 'alice@example.com', ip: '203.0.113.7',
    user_agent: 'curl/8.5.0', geo: { country: 'US' }, as: { number: 64500 }, network: '203.0.113.7',
    ua: { browser: 'curl', os: 'unknown', device: 'unknown', is_script: true }, ...over,
  };
}

const window: WindowSnapshot = { duplicate: false, events: 1, first_seen: NOW, last_seen: NOW, evicted: 0, fields: {}, transitions: [] };

describe('rule engine', () => {
  it('applies an exception until it expires, and reports which one', () => {
    const withException = (expires: string) =>
      rule(MATCH + `exceptions:\n  - { cidr: 203.0.113.0/24, reason: lab network, owner: secops, expires: ${expires} }\n`);
    const live = new RuleEngine([withException('2027-01-01')], undefined, () => NOW);
    const r1 = live.evaluate({ event: event(), window });
    expect(r1.detections).toHaveLength(0);
    expect(r1.excepted).toEqual([{ rule: 'any-request', reason: 'lab network' }]);
    expect(live.evaluate({ event: event({ ip: '198.51.100.1' }), window }).detections).toHaveLength(1);

    const expired = new RuleEngine([withException('2026-01-01')], undefined, () => NOW);
    expect(expired.evaluate({ event: event(), window }).detections).toHaveLength(1);
  });

  it('matches exceptions on user, tenant, ASN, country and user-agent substring together', () => {
    const r = rule(MATCH + `exceptions:\n  - { user: alice@example.com, asn: 64500, country: us, user_agent: CURL, reason: backup job, owner: it }\n`);
    const engine = new RuleEngine([r], undefined, () => NOW);
    expect(engine.evaluate({ event: event(), window }).detections).toHaveLength(0);
    expect(engine.evaluate({ event: event({ user: 'bob@example.com' }), window }).detections).toHaveLength(1);
    expect(engine.evaluate({ event: event({ user_agent: 'python-requests/2.31' }), window }).detections).toHaveLength(1);
  });

  it('runs cold-start users in monitor mode and skips them when asked', () => {
    const base = MATCH + 'baseline: { new_for_user: [asn], min_age: 7d, min_events: 3, cold_start: COLD }\n';
    const young: UserSnapshot = { first_seen: NOW - 86_400_000, events: 50, values: { asn: new Map(), country: new Map(), client: new Map(), signin: new Map(), presence: new Map() } };
    const monitor = new RuleEngine([rule(base.replace('COLD', 'monitor'))]).evaluate({ event: event(), window, user: young });
    expect(monitor.detections[0]?.monitor).toBe(true);
    const skip = new RuleEngine([rule(base.replace('COLD', 'skip'))]).evaluate({ event: event(), window, user: young });
    expect(skip.detections).toHaveLength(0);
    expect(skip.skips).toEqual([{ rule: 'any-request', reason: 'no_baseline' }]);

    const known: UserSnapshot = { first_seen: NOW - 30 * 86_400_000, events: 50, values: { asn: new Map([['64500', { first: NOW - 20 * 86_400_000, last: NOW - 86_400_000, count: 9 }]]), country: new Map(), client: new Map(), signin: new Map(), presence: new Map() } };
    const established = new RuleEngine([rule(base.replace('COLD', 'monitor'))]);
    expect(established.evaluate({ event: event(), window, user: known }).detections).toHaveLength(0); // AS known
    const fresh = established.evaluate({ event: event({ as: { number: 64501 } }), window, user: known });
    expect(fresh.detections).toHaveLength(1);
    expect(fresh.detections[0]!.monitor).toBe(false);
  });

  it('matches list-valued fields like signals, and negated filters', () => {
    const r = rule(`id: reuse\ntitle: Reuse\nseverity: high\ntype: match\nwhere: { signals: token_reuse, "!tenant": lab }\n`);
    const engine = new RuleEngine([r]);
    expect(engine.evaluate({ event: event({ signals: ['proxy', 'token_reuse'] }), window }).detections).toHaveLength(1);
    expect(engine.evaluate({ event: event({ signals: ['proxy'] }), window }).detections).toHaveLength(0);
    expect(engine.evaluate({ event: event({ signals: ['token_reuse'], tenant: 'lab' }), window }).detections).toHaveLength(0);
  });

  it('isolates a rule that throws: the failure is reported and the other rules still run', () => {
    const good = rule(MATCH);
    const bad = rule(MATCH.replace('any-request', 'bad-rule').replace('where: { type: request }', 'where: { app: portal }'));
    const engine = new RuleEngine([bad, good]);
    // A poison event: reading the field the bad rule filters on throws.
    const poisoned = event();
    Object.defineProperty(poisoned, 'app', { get: () => { throw new Error('boom'); }, enumerable: true });
    const res = engine.evaluate({ event: poisoned, window });
    expect(res.failures.map((f) => f.rule)).toEqual(['bad-rule']);
    expect(res.detections.map((d) => d.rule.id)).toEqual(['any-request']);
  });
});

// No prototype pollution anywhere on the path of an event: JSON with `__proto__` / `constructor` / `prototype` keys
// and values that name Object.prototype members (a user called "__proto__", a tenant called "constructor") go
// through decode, adapters, normalize, the whole embedded pipeline (windows, baselines, rules, incidents), the
// rule loader and every formatter; afterwards `({}).polluted` is still undefined and the pipeline still works.
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { RecordConverter } from '../../src/ingest/convert.js';
import { decodeText, INPUT_FORMATS } from '../../src/ingest/decode.js';
import { formatIncident, OUTPUT_FORMATS } from '../../src/outputs/formatters/index.js';
import { parseRuleText } from '../../src/rules/loader.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import type { AuthEvent } from '../../src/events/schema.js';
import { isPolluted, params } from './arbitraries.js';

const NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'polluted'] as const;
const T0 = Date.UTC(2026, 10, 23, 12);

let runtime: Runtime;
/** every run gets sessions of its own (runs share one runtime, and incidents deduplicate per session) */
let run = 0;

beforeAll(async () => {
  runtime = await createRuntime({ env: loadEnv({ RG_SESSION_KEY: 'pollution-test-key-0123456789abcdef01' }), store: 'memory', logger: pino({ level: 'silent' }), rulesDir: 'rules', eventClock: true });
});

afterAll(async () => {
  await runtime?.close();
  expect(isPolluted()).toBe(false);
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(Object.getOwnPropertyNames(Object.getPrototypeOf({})).sort());
});

/** A canonical event as JSON text, with pollution keys injected at the top level and inside an ignored field. */
function line(fields: Record<string, unknown>, key: string): string {
  const json = JSON.stringify(fields);
  return `{"${key}":{"polluted":"yes","session_id":"evil","type":"revoke"},` + json.slice(1, -1) + `,"extra":{"${key}":{"polluted":"yes"}}}`;
}

describe('prototype-pollution payloads through the whole embedded pipeline', () => {
  it('pollution keys in records and Object.prototype names as values: no pollution, events processed, incidents sane', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...NAMES),
        fc.constantFrom(...NAMES),
        fc.constantFrom(...NAMES),
        fc.constantFrom(...INPUT_FORMATS.filter((f) => f === 'canonical' || f === 'auto')),
        async (key, user, tenant, format) => {
          const n = ++run;
          // One session replayed from a second network in a second browser: the multi-network rule must still fire.
          const session = `sess-${n}`;
          const lines = [
            line({ id: `a-${n}`, time: T0, type: 'login', session_id: session, user_id: user, tenant, device_id: key, app: key, ip: '81.2.69.142', user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' }, key),
            line({ id: `b-${n}`, time: T0 + 600_000, type: 'request', session_id: session, user_id: user, tenant, device_id: user, app: tenant, ip: '185.220.101.1', user_agent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' }, key),
          ];
          const converter = new RecordConverter({ format, hasher: runtime.hasher });
          const events: AuthEvent[] = [];
          for (const rec of decodeText(lines.join('\n'), { format, framing: 'lines' })) {
            const outcome = converter.convert(rec);
            expect(outcome.ok, JSON.stringify(outcome)).toBe(true);
            if (outcome.ok) events.push(outcome.event);
          }
          expect(events.map((e) => [e.user, e.tenant])).toEqual([[user, tenant], [user, tenant]]);
          await runtime.pipeline.process(events);
          const { items } = await runtime.incidents.list({ session: events[0]!.session, limit: 50 });
          expect(items.map((i) => i.rule.id)).toContain('session-multi-network-multi-device');
          for (const incident of items) {
            expect(incident.user).toBe(user);
            expect(incident.tenant).toBe(tenant);
            for (const format of OUTPUT_FORMATS) formatIncident(format, incident, { clock: () => T0 });
          }
          expect(isPolluted()).toBe(false);
        },
      ),
      params(40),
    );
  });

  it('rule files with pollution keys and Object.prototype names as values load or fail cleanly', () => {
    for (const key of NAMES) {
      const text = `id: pollution-rule\ntitle: pollution rule\nseverity: high\ntype: match\n${JSON.stringify(key)}: {polluted: yes}\nwhere: {${JSON.stringify(key)}: ${JSON.stringify(key)}, user: ${JSON.stringify(key)}}\nexceptions:\n  - {user: ${JSON.stringify(key)}, reason: "pollution test", owner: me, ${JSON.stringify(key)}: {polluted: yes}}\n`;
      const result = parseRuleText(text, 'rules/pollution.yaml');
      expect(result.errors.length > 0 || result.rule !== undefined).toBe(true);
    }
    expect(isPolluted()).toBe(false);
  });
});

// Results must not depend on where batches split: a rotation links the new session to the old one's history,
// and events after the rotate in the same batch must see that link.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createEnricher } from '../../src/enrich/index.js';
import { normalizeOne, SessionHasher } from '../../src/events/normalize.js';
import type { AuthEvent } from '../../src/events/schema.js';
import { MemoryIncidentStore } from '../../src/incidents/memory-store.js';
import { Metrics } from '../../src/observability/metrics.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { RuleEngine } from '../../src/rules/engine.js';
import { loadRuleDir } from '../../src/rules/loader.js';
import { MemoryBaselineStore } from '../../src/state/memory/baseline-store.js';
import { MemoryWindowStore } from '../../src/state/memory/window-store.js';

const hasher = new SessionHasher('batching-test-key-0123456789abcdef');
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

function ev(input: Record<string, unknown>): AuthEvent {
  const r = normalizeOne({ tenant: 'acme', user_id: 'alice@example.com', ...input }, hasher);
  if (!r.ok) throw new Error(r.message);
  return r.event;
}

const story = [
  ev({ id: 'a', time: '2026-11-23T09:00:00Z', type: 'login', session_id: 'old', ip: '73.22.1.5', user_agent: CHROME }),
  ev({ id: 'b', time: '2026-11-23T09:10:00Z', type: 'rotate', session_id: 'old', new_session_id: 'new', ip: '73.22.1.5', user_agent: CHROME }),
  ev({ id: 'c', time: '2026-11-23T09:20:00Z', type: 'request', session_id: 'new', ip: '159.89.1.1', user_agent: FIREFOX }),
];

async function run(batches: AuthEvent[][]): Promise<string[]> {
  const { rules, lists } = await loadRuleDir('test/fixtures/e2e-rules');
  const incidents = new MemoryIncidentStore((d) => d.time);
  const pipeline = new Pipeline({
    enricher: await createEnricher(), windows: new MemoryWindowStore(), baselines: new MemoryBaselineStore(), rules: new RuleEngine(rules, lists),
    incidents, metrics: new Metrics(), logger: pino({ level: 'silent' }),
  });
  for (const b of batches) await pipeline.process(b);
  return (await incidents.list({})).items.map((i) => `${i.rule.id}:${i.session === hasher.hash('acme', 'new') ? 'new' : 'old'}`).sort();
}

describe('pipeline batching', () => {
  it('gives the same incidents whether the rotation and the later use arrive in one batch or one by one', async () => {
    const oneByOne = await run(story.map((e) => [e]));
    const oneBatch = await run([story]);
    expect(oneByOne).toEqual(['session-multi-network-multi-device:new']); // the new id inherits the old one's network and browser
    expect(oneBatch).toEqual(oneByOne);
  });
});

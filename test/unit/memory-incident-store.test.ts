// The memory incident store keeps incidents as objects and their event ids in (time, id) order as hits arrive: hits
// out of time order, repeats, and more than MAX_INCIDENT_EVENT_IDS ids must give what sorting every id afresh on each
// hit gave (what Redis's sorted set gives), and an incident handed out must not change when later hits come in.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryIncidentStore } from '../../src/incidents/memory-store.js';
import type { Detection, Incident } from '../../src/incidents/model.js';
import { MAX_INCIDENT_EVENT_IDS } from '../../src/incidents/store.js';

const T0 = Date.UTC(2026, 10, 1);

const detection = (event_id: string, time: number): Detection => ({
  rule: { id: 'r1', title: 'Rule one', version: 1 }, severity: 'medium', mitre: ['T1539'], session: 'a'.repeat(32), tenant: 'acme', time,
  event_id, evidence: { reason: `hit ${event_id}`, fields: {}, ips: [], user_agents: [] }, action: 'alert', monitor: false, cooldown_ms: 0,
});

describe('memory incident store', () => {
  it('keeps the latest event ids by (time, id), counts and times, whatever order hits come in', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 30 })), { minLength: 1, maxLength: 150 }), async (hits) => {
        const store = new MemoryIncidentStore((d) => d.time);
        const held = new Map<string, number>();
        let count = 0;
        let first = Infinity;
        let last = -Infinity;
        let reason = '';
        let updated = 0;
        const handedOut: [Incident, string][] = [];
        for (const [n, t] of hits) {
          const id = `e${n}`;
          const time = T0 + t * 1000;
          const r = await store.record(detection(id, time));
          if (held.has(id)) {
            expect(r.outcome).toBe('unchanged');
          } else {
            held.set(id, time);
            if (held.size > MAX_INCIDENT_EVENT_IDS) {
              const oldest = [...held].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
              held.delete(oldest);
            }
            count++;
            updated = time;
            first = Math.min(first, time);
            if (time >= last) {
              last = time;
              reason = `hit ${id}`;
            }
          }
          const want = [...held].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).map(([k]) => k);
          expect(r.incident.event_ids).toEqual(want);
          expect(r.incident.count).toBe(count);
          expect(r.incident.first_seen).toBe(new Date(first).toISOString());
          expect(r.incident.last_seen).toBe(new Date(last).toISOString());
          expect(r.incident.updated_at).toBe(new Date(updated).toISOString());
          expect(r.incident.evidence.reason).toBe(reason);
          handedOut.push([r.incident, JSON.stringify(r.incident)]);
        }
        for (const [incident, text] of handedOut) expect(JSON.stringify(incident)).toBe(text);
        const [only] = store.drain();
        expect(only?.event_ids).toEqual([...held].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).map(([k]) => k));
      }),
      { numRuns: 200 },
    );
  });
});

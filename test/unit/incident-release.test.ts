// The memory incident store's close-by-idle rule (what lets scan write incidents as they close): a hit after the
// horizon opens a new incident, and taking closed incidents out as the store goes gives exactly what holding them all
// to the end gives, in the same order.
import { describe, expect, it } from 'vitest';
import { MemoryIncidentStore } from '../../src/incidents/memory-store.js';
import type { Detection, Incident } from '../../src/incidents/model.js';
import { rng } from '../helpers/rng.js';

const T0 = Date.UTC(2026, 10, 23, 12);
const HOUR = 3_600_000;
const IDLE = 24 * HOUR;

function detection(over: Partial<Detection> = {}): Detection {
  return {
    rule: { id: 'r1', title: 'Rule one', version: 1 }, severity: 'medium', mitre: ['T1539'], session: 'a'.repeat(32), user: 'alice@example.com',
    tenant: 'acme', time: T0, event_id: 'e1', evidence: { reason: 'r', fields: {}, ips: [], user_agents: [] },
    action: 'alert', monitor: false, cooldown_ms: 0, ...over,
  };
}

const store = () => new MemoryIncidentStore((d) => d.time, { closeAfterIdleMs: IDLE });

describe('memory incident store: closing idle incidents', () => {
  it('folds hits within the horizon (plus the cooldown) and opens a new incident after it', async () => {
    const s = store();
    const a = await s.record(detection({ cooldown_ms: HOUR }));
    expect((await s.record(detection({ event_id: 'e2', time: T0 + IDLE + HOUR - 1, cooldown_ms: HOUR }))).incident.id).toBe(a.incident.id);
    expect(s.takeClosed()).toEqual([]);
    // The second hit moved the horizon: idle + cooldown after it.
    const late = await s.record(detection({ event_id: 'e3', time: T0 + 2 * (IDLE + HOUR) }));
    expect(late.outcome).toBe('created');
    expect(late.incident.id).not.toBe(a.incident.id);
    const closed = s.takeClosed();
    expect(closed.map((i) => [i.id, i.count])).toEqual([[a.incident.id, 2]]);
    expect(s.drain().map((i) => i.id)).toEqual([late.incident.id]);
  });

  it('does not close without a horizon, and a repeated event does not keep an incident open', async () => {
    const plain = new MemoryIncidentStore((d) => d.time);
    await plain.record(detection());
    await plain.record(detection({ event_id: 'e2', session: 'b'.repeat(32), time: T0 + 100 * IDLE }));
    expect(plain.takeClosed()).toEqual([]);
    expect(plain.drain()).toHaveLength(2);

    const s = store();
    const a = await s.record(detection());
    await s.record(detection({ event_id: 'x', session: 'b'.repeat(32), time: T0 + IDLE / 2 }));
    expect((await s.record(detection({ time: T0 + IDLE / 2 }))).outcome).toBe('unchanged');
    await s.record(detection({ event_id: 'y', session: 'b'.repeat(32), time: T0 + IDLE }));
    expect(s.takeClosed().map((i) => i.id)).toEqual([a.incident.id]);
  });

  it('gives the same incidents in the same order whether they are taken out as they close or all at the end', async () => {
    const random = rng(7);
    const detections: Detection[] = [];
    let time = T0;
    for (let n = 0; n < 3_000; n++) {
      // Mostly forward in time, sometimes late; a few sessions hit again after long gaps.
      time += Math.floor(random() * 2 * HOUR);
      const t = random() < 0.1 ? time - Math.floor(random() * 3 * IDLE) : time;
      detections.push(detection({
        rule: { id: `r${Math.floor(random() * 3)}`, title: 'R', version: 1 }, session: String(Math.floor(random() * 40)).padStart(32, '0'),
        event_id: `e${n}`, time: t, cooldown_ms: Math.floor(random() * 3) * HOUR, severity: random() < 0.2 ? 'high' : 'medium',
      }));
    }
    const released = store();
    const held = store();
    const streamed: Incident[] = [];
    let takenEarly = 0;
    for (let k = 0; k < detections.length; k++) {
      const d = detections[k]!;
      const [r, h] = [await released.record(d), await held.record(d)];
      expect(r).toEqual(h);
      if (k % 17 === 0) {
        const taken = released.takeClosed();
        takenEarly += taken.length;
        streamed.push(...taken);
      }
    }
    streamed.push(...released.drain());
    expect(takenEarly).toBeGreaterThan(50);
    expect(streamed).toEqual(held.drain());
  });

  it('finds closed incidents not yet taken out by id and in lists', async () => {
    const s = store();
    const a = await s.record(detection());
    await s.record(detection({ event_id: 'e2', time: T0 + 2 * IDLE }));
    expect((await s.get(a.incident.id))?.count).toBe(1);
    expect((await s.list({})).items).toHaveLength(2);
  });
});

// The memory stores hand the pipeline their live window and baseline (observeLive, changed in place by the next
// event) and everyone else copies (observe, peek). Both must be the same state machine: random streams (repeats,
// late events, endings, re-deliveries, caps reached, rotations linked) give, event by event, the same window and
// baseline through either door.
import { describe, expect, it } from 'vitest';
import type { UserObservation, UserSnapshot } from '../../src/state/baseline.js';
import { MemoryBaselineStore } from '../../src/state/memory/baseline-store.js';
import { MemoryWindowStore } from '../../src/state/memory/window-store.js';
import type { Observation, WindowSnapshot } from '../../src/state/window.js';
import { rng } from '../helpers/rng.js';

const wjson = (s: WindowSnapshot): string => JSON.stringify(s);
const bjson = (s: UserSnapshot): string => JSON.stringify({ ...s, values: Object.fromEntries(Object.entries(s.values).map(([k, m]) => [k, [...m]])) });

describe.each([1, 2, 3])('memory stores: live and copied answers agree (seed %i)', (seed) => {
  it('event by event', async () => {
    const R = rng(seed);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(R() * a.length)]!;
    const limits = { ttlSeconds: 3600, valuesPerField: 3, eventIds: 5, transitions: 4 };
    const live = new MemoryWindowStore({ limits });
    const copied = new MemoryWindowStore({ limits });
    const bLive = new MemoryBaselineStore({ ttlSeconds: 3600, valuesPerKind: 2 });
    const bCopied = new MemoryBaselineStore({ ttlSeconds: 3600, valuesPerKind: 2 });
    const T0 = Date.UTC(2026, 10, 1);
    const sent: Observation[] = [];
    let clock = 0;
    for (let i = 0; i < 2_000; i++) {
      const session = `s${Math.floor(R() * 5)}`;
      let o: Observation;
      if (sent.length > 0 && R() < 0.05) {
        o = pick(sent);
      } else {
        clock += Math.floor(R() * 3000);
        const time = T0 + clock - (R() < 0.1 ? Math.floor(R() * 20_000) : 0);
        const net = pick(['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4', '5.5.5.5']);
        const browser = pick(['Chrome', 'Chrome', 'Firefox', 'Safari']);
        o = { session, event_id: `e${i}`, time, transition: `${net}|${browser}`, values: [{ field: 'network', value: net, meta: `{"ip":"${net}"}` }, { field: 'browser', value: browser, meta: '' }] };
        if (R() < 0.03) o.end = { type: 'logout' };
        sent.push(o);
      }
      const w = wjson(live.observeLive(o));
      const [c] = await copied.observe([o]);
      expect(w, `event ${i}`).toBe(wjson(c!));
      if (R() < 0.02) {
        const to = `r${i}`;
        await live.linkRotation(to, { session: o.session, time: o.time, snapshot: live.observeLive({ ...o, event_id: `${o.event_id}-rot` }) });
        await copied.linkRotation(to, { session: o.session, time: o.time, snapshot: (await copied.observe([{ ...o, event_id: `${o.event_id}-rot` }]))[0]! });
        expect(wjson((await live.peek(to))!)).toBe(wjson((await copied.peek(to))!));
      }
      const u: UserObservation = { user: `u${session}`, time: o.time, learn: R() < 0.9, values: [{ kind: 'asn', value: pick(['1', '2', '3']) }, { kind: 'country', value: pick(['US', 'DE', 'FR']) }] };
      if (R() < 0.7) u.location = { lat: Math.floor(R() * 100) / 10, lon: 1, acc: 5, network: 'n', session };
      const bl = bjson(bLive.observeLive(u));
      const [bc] = await bCopied.observe([u]);
      expect(bl, `baseline ${i}`).toBe(bjson(bc!));
    }
  });
});

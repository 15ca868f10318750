// fastCanonical answers for canonicalEventSchema on clean input and stays out of the way otherwise: whenever it answers,
// the schema accepts the same input and returns the same object (values, types, key order); whenever the schema
// rejects, so that rejections keep zod's codes and messages, it has not answered. And it must answer for the clean
// events that are nearly all of a real file, or it buys nothing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastCanonical } from '../../src/events/fast-canonical.js';
import { canonicalEventSchema, EVENT_TYPES, SIGNALS } from '../../src/events/schema.js';
import { extraKeys, hostileString, ipShapes, isPolluted, mutateRecord, params, rawSessionId, timeShapes, viaJson, wrongType } from './arbitraries.js';

/** Same answer as the schema, or no answer; returns whether it answered. */
function agrees(input: unknown): boolean {
  const fast = fastCanonical(input);
  const zod = canonicalEventSchema.safeParse(input);
  if (fast === undefined) return false;
  expect(zod.success, `fast path accepted what zod rejects: ${JSON.stringify(input)?.slice(0, 300)}`).toBe(true);
  if (!zod.success) return true;
  expect(fast).toStrictEqual(zod.data);
  expect(Object.keys(fast)).toEqual(Object.keys(zod.data));
  expect(Object.getPrototypeOf(fast)).toBe(Object.prototype);
  return true;
}

const T0 = Date.UTC(2026, 10, 1);

/** The events a file is made of: every optional field present or not, values of the usual kinds. */
const clean = fc
  .record(
    {
      id: fc.string({ minLength: 1, maxLength: 40 }),
      time: fc.oneof(fc.integer({ min: T0, max: T0 + 86_400_000 }), fc.integer({ min: T0, max: T0 + 86_400_000 }).map((t) => new Date(t).toISOString()), fc.constant('2026-11-23T13:00:00+01:00')),
      type: fc.constantFrom(...EVENT_TYPES.filter((t) => t !== 'rotate')),
      session_id: fc.string({ minLength: 1, maxLength: 64 }).filter((s) => !/[\uD800-\uDFFF]/.test(s)),
      user_id: fc.emailAddress(),
      ip: fc.oneof(fc.ipV4(), fc.ipV6()),
      user_agent: fc.string({ maxLength: 120 }),
      tenant: fc.constantFrom('acme', 'default', 't-1'),
      device_id: fc.string({ minLength: 1, maxLength: 20 }),
      app: fc.constantFrom('portal', 'mail'),
      asn: fc.integer({ min: 0, max: 4_294_967_295 }),
      country: fc.constantFrom('US', 'de', 'Fr'),
      is_proxy: fc.boolean(),
      signals: fc.subarray([...SIGNALS]),
    },
    { requiredKeys: ['time', 'type', 'session_id', 'ip'] },
  )
  .chain((e) => fc.tuple(fc.constant(e), extraKeys, fc.option(fc.uuid().map((u) => `rotated-${u}`), { nil: undefined })))
  .map(([e, extra, rotateTo]) => viaJson(rotateTo === undefined ? e : { ...e, type: 'rotate', new_session_id: rotateTo }, extra));

const VALID = {
  id: 'e-1', time: T0, type: 'request', session_id: 'sid', new_session_id: 'sid-2', user_id: 'alice@example.com', ip: '203.0.113.7',
  user_agent: 'Mozilla/5.0', tenant: 'acme', device_id: 'dev-1', app: 'portal', asn: 64500, country: 'us', is_proxy: false, signals: ['proxy'],
};

const SAME_KIND: Record<string, fc.Arbitrary<unknown>> = {
  time: timeShapes,
  type: fc.oneof(fc.constantFrom(...EVENT_TYPES), fc.constantFrom('LOGIN', 'rotate\u0000', '__proto__'), hostileString),
  session_id: fc.oneof(rawSessionId, hostileString),
  new_session_id: fc.oneof(rawSessionId, hostileString, fc.constant('')),
  ip: ipShapes,
  asn: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-0, -1, 0, 4_294_967_295, 4_294_967_296, 2 ** 53, '64500')),
  country: fc.oneof(fc.constantFrom('US', 'us', 'USA', 'U', '', '1A', 'ÜS', 'ﬀ'), hostileString),
  is_proxy: fc.oneof(fc.boolean(), fc.constantFrom('true', 0, 1, null)),
  signals: fc.oneof(fc.array(fc.constantFrom(...SIGNALS), { maxLength: 10 }), fc.array(fc.oneof(fc.constantFrom(...SIGNALS), hostileString, wrongType), { maxLength: 4 })),
};

/** Near-valid events, through JSON as a line would be, and as objects no JSON text gives. */
const nearValid = fc.tuple(mutateRecord(VALID, SAME_KIND), extraKeys).map(([r, extra]) => viaJson(r, extra));
/** A valid event with one field changed to a value of its kind or another, or dropped: the edge of each check. */
const oneOff = fc
  .constantFrom(...Object.keys(VALID))
  .chain((k) => fc.tuple(fc.constant(k), fc.oneof({ weight: 4, arbitrary: SAME_KIND[k] ?? hostileString }, wrongType, fc.constant(undefined))))
  .map(([k, v]) => {
    const r: Record<string, unknown> = { ...VALID };
    if (v === undefined) delete r[k];
    else r[k] = v;
    return viaJson(r);
  });
const oddObjects = fc.tuple(mutateRecord(VALID, SAME_KIND), fc.constantFrom('undefined', 'inherited', 'null-proto', 'getter', 'array', 'sparse')).map(([r, how]) => {
  switch (how) {
    case 'undefined':
      return { ...r, user_id: undefined, asn: undefined };
    case 'inherited':
      return Object.assign(Object.create({ tenant: 'inherited', type: 'login' }) as object, r);
    case 'null-proto':
      return Object.assign(Object.create(null) as object, r);
    case 'getter':
      return Object.defineProperty({ ...r }, 'user_id', { get: () => 'from-getter', enumerable: true });
    case 'array':
      return Object.assign([], r);
    default:
      // eslint-disable-next-line no-sparse-arrays
      return { ...r, signals: [, 'proxy'] };
  }
});

describe('fastCanonical', () => {
  it('answers for clean events, always as the schema does', () => {
    let answered = 0;
    let total = 0;
    fc.assert(
      fc.property(clean, (input) => {
        total++;
        if (agrees(input)) answered++;
      }),
      params(500),
    );
    // Clean events with no surrogate and every value inside its limit: the fast path must take every one.
    expect(answered).toBe(total);
  });

  it('on near-valid and odd input, answers only as the schema does', () => {
    let answered = 0;
    fc.assert(
      fc.property(fc.oneof(nearValid, oneOff, oddObjects), (input) => {
        if (agrees(input)) answered++;
      }),
      params(3000),
    );
    // A third of the inputs change one field only and many of those stay valid: a fair share must still be answered.
    expect(answered).toBeGreaterThan(300);
    expect(isPolluted()).toBe(false);
  });

  it('leaves to the schema what only it can judge', () => {
    const base = { time: T0, type: 'request', session_id: 'sid', ip: '203.0.113.7' };
    // Limits in code points: 2048 emoji are 4096 UTF-16 units, past the user agent's limit in units, inside it in code points.
    expect(fastCanonical({ ...base, user_agent: '😀'.repeat(2048) })).toBeUndefined();
    expect(canonicalEventSchema.safeParse({ ...base, user_agent: '😀'.repeat(2048) }).success).toBe(true);
    expect(fastCanonical({ ...base, session_id: 'a\uD800' })).toBeUndefined();
    // A time's text is limited to 64: one digit more of fraction and the schema refuses it.
    const at = (len: number): string => `2026-11-23T12:00:00.${'1'.repeat(len - 21)}Z`;
    expect(agrees({ ...base, time: at(64) })).toBe(true);
    expect(fastCanonical({ ...base, time: at(65) })).toBeUndefined();
    expect(canonicalEventSchema.safeParse({ ...base, time: at(65) }).success).toBe(false);
    expect(fastCanonical({ ...base, type: 'rotate' })).toBeUndefined();
    expect(fastCanonical({ ...base, ip: ' 203.0.113.7 ' })).toEqual(canonicalEventSchema.parse({ ...base, ip: ' 203.0.113.7 ' }));
    expect(fastCanonical(base)).toEqual({ time: T0, type: 'request', session_id: 'sid', ip: '203.0.113.7' });
  });
});

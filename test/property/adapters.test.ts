// Every vendor adapter and `auto` detection on near-valid vendor records with adversarial values (IP shapes,
// far-off timestamps, huge and ill-formed strings, wrong types, dropped fields, pollution keys at every level),
// complementing test/unit/adapters/hostile.test.ts (arbitrary values, corpus mutations, fixed hostile shapes).
// The answer is a skip with a known reason (never `internal_error`, which would mean an adapter threw on plain
// JSON) or an event the canonical schema accepts, whose normalized form carries no raw session id.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ADAPTER_NAMES,
  adapters,
  convertRecord,
  detectFormat,
  SKIP_REASONS,
  type AdapterName,
  type AdapterResult,
  type AnyAdapterOptions,
} from '../../src/events/adapters/index.js';
import { normalizeOne, SessionHasher } from '../../src/events/normalize.js';
import { canonicalEventSchema } from '../../src/events/schema.js';
import {
  deepValue,
  hostileString,
  ipShapes,
  isPolluted,
  params,
  pollutionPayload,
  rawSessionId,
  specialString,
  timeShapes,
  wrongType,
} from './arbitraries.js';

const hasher = new SessionHasher('property-test-session-key-0123456789abcdef');

// ---------------------------------------------------------------------------------------------------------------
// Record builders

const DROP = undefined;

/** A leaf: mostly the valid value, else an adversarial value of the same kind, a wrong type, or absent. */
function leaf<T>(valid: T, same: fc.Arbitrary<unknown> = hostileString): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(valid) },
    { weight: 3, arbitrary: same },
    { weight: 1, arbitrary: wrongType },
    { weight: 1, arbitrary: fc.constant(DROP) },
  );
}

/** Extra own keys for one object: `__proto__` and friends with payloads, or unknown keys. */
const extras = fc.array(fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'x'), pollutionPayload), { maxLength: 2 });

type Extras = Array<[string, unknown]>;

/** An object with the defined entries of `fields` plus `extra` as own enumerable keys (JSON.stringify keeps them). */
function obj(fields: Record<string, unknown>, extra: Extras = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  for (const [k, v] of extra) Object.defineProperty(out, k, { value: v, enumerable: true, configurable: true, writable: true });
  return out;
}

/** Through JSON text, as a body or a log line reaches the adapters (own `__proto__` keys stay own data). */
const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

interface Case {
  format: AdapterName;
  record: unknown;
  /** raw session identifiers that must never reach a normalized event */
  raw: string[];
  opts?: AnyAdapterOptions;
}

const okta: fc.Arbitrary<Case> = fc
  .record({
    sid: rawSessionId,
    published: leaf('2026-11-23T12:00:00.000Z', timeShapes),
    eventType: leaf('user.session.start', fc.constantFrom('user.session.end', 'policy.evaluate_sign_on', 'app.oauth2.token.detect_reuse', 'app.oauth2.as.token.grant.refresh_token', 'system.org.rate_limit.violation', 'user.mfa.factor.activate', 'USER.SESSION.START', '')),
    result: leaf('SUCCESS', fc.constantFrom('FAILURE', 'DENY', 'success', '')),
    actorType: leaf('User', fc.constantFrom('SystemPrincipal', 'PublicClientApp', 'user')),
    user: leaf('alice@example.com'),
    ip: leaf('203.0.113.7', ipShapes),
    ua: leaf('Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0'),
    country: leaf('US', fc.constantFrom('United States', 'us', '')),
    dtHash: leaf('a1b2c3d4'),
    asn: leaf(64500, fc.oneof(fc.integer(), fc.constantFrom('64500', '-1', '1e3'))),
    isProxy: leaf(false, fc.constantFrom('true', 'false', 1)),
    e: fc.tuple(extras, extras, extras),
  })
  .map((v) => ({
    format: 'okta' as const,
    raw: [v.sid],
    record: asJson(
      obj(
        {
          uuid: 'u-1', published: v.published, eventType: v.eventType, outcome: obj({ result: v.result }),
          actor: obj({ type: v.actorType, alternateId: v.user }, v.e[1]),
          client: obj({ ipAddress: v.ip, userAgent: obj({ rawUserAgent: v.ua }), geographicalContext: obj({ country: v.country }) }, v.e[2]),
          authenticationContext: obj({ externalSessionId: v.sid }), debugContext: obj({ debugData: obj({ dtHash: v.dtHash }) }),
          securityContext: obj({ asNumber: v.asn, isProxy: v.isProxy }), target: [obj({ type: 'AppInstance', alternateId: 'portal' })],
        },
        v.e[0],
      ),
    ),
  }));

const auth0: fc.Arbitrary<Case> = fc
  .record({
    sid: rawSessionId,
    date: leaf('2026-11-23T12:00:00.000Z', timeShapes),
    type: leaf('s', fc.constantFrom('ssa', 'slo', 'sertft', 'ferrt', 'f', 'fsa', 'sapi', 'limit_wc', 'ss', '__proto__', 'constructor', 'toString', 'S')),
    ip: leaf('203.0.113.7', ipShapes),
    ua: leaf('Mozilla/5.0'),
    user: leaf('auth0|123'),
    tenant: leaf('acme'),
    jti: leaf('jti-1'),
    envelope: fc.constantFrom('none', 'stream', 'eventbridge'),
    e: fc.tuple(extras, extras),
  })
  .map((v) => {
    const ev = obj(
      {
        date: v.date, type: v.type, log_id: 'l-1', ip: v.ip, user_agent: v.ua, user_id: v.user, client_id: 'c-1', tenant_name: v.tenant,
        details: obj({ session_id: v.sid, request: obj({ ip: v.ip, auth: obj({ credentials: obj({ jti: v.jti }) }) }) }, v.e[1]),
      },
      v.e[0],
    );
    const record =
      v.envelope === 'stream' ? { log_id: 'l-1', data: ev }
      : v.envelope === 'eventbridge' ? { source: 'aws.partner/auth0.com/acme-4f1c2d3e-0000-4000-8000-000000000000/auth0.logs', detail: { data: ev } }
      : ev;
    return { format: 'auth0' as const, raw: [v.sid], record: asJson(record) };
  });

const entra: fc.Arbitrary<Case> = fc
  .record({
    sid: rawSessionId,
    created: leaf('2026-11-23T12:00:00Z', timeShapes),
    ip: leaf('203.0.113.7', ipShapes),
    upn: leaf('alice@example.com'),
    interactive: leaf(true, fc.constantFrom('true', 'false', 'yes', 0)),
    errorCode: leaf(0, fc.constantFrom(50126, '0', '', null, 'x')),
    eventTypes: leaf(['interactiveUser'], fc.constantFrom(['nonInteractiveUser'], ['servicePrincipal'], [], [1, null])),
    category: leaf('SignInLogs', fc.constantFrom('NonInteractiveUserSignInLogs', 'ServicePrincipalSignInLogs', 'AuditLogs', '__proto__', '')),
    country: leaf('US'),
    asn: leaf(64500, fc.oneof(fc.integer(), fc.constant('64500'))),
    diagnostic: fc.boolean(),
    e: fc.tuple(extras, extras),
  })
  .map((v) => {
    const signIn = obj(
      {
        id: 'i-1', createdDateTime: v.created, userPrincipalName: v.upn, appId: 'app-1', ipAddress: v.ip, isInteractive: v.interactive,
        signInEventTypes: v.eventTypes, sessionId: v.sid, status: obj({ errorCode: v.errorCode }), location: obj({ countryOrRegion: v.country }),
        autonomousSystemNumber: v.asn, resourceTenantId: 'tenant-1', deviceDetail: obj({ deviceId: 'dev-1' }, v.e[1]),
      },
      v.e[0],
    );
    const record = v.diagnostic
      ? { time: '2026-11-23T12:00:01Z', category: v.category, tenantId: 'tenant-1', operationName: 'Sign-in activity', callerIpAddress: v.ip, resultType: '0', properties: signIn }
      : signIn;
    return { format: 'entra' as const, raw: [v.sid], record: asJson(record) };
  });

const cloudtrail: fc.Arbitrary<Case> = fc
  .record({
    key: fc.uuid().map((u) => `ASIA${u.replace(/-/g, '').toUpperCase()}`),
    time: leaf('2026-11-23T12:00:00Z', timeShapes),
    name: leaf('GetObject', fc.constantFrom('ConsoleLogin', 'CheckMfa', 'AssumeRole', '')),
    source: leaf('203.0.113.7', fc.oneof(ipShapes, fc.constantFrom('ec2.amazonaws.com', 'AWS Internal', 'cloudtrail.amazonaws.com.cn'))),
    keyKind: fc.constantFrom('ASIA', 'AKIA', 'none', 'hostile'),
    login: leaf('Success', fc.constantFrom('Failure', 'success', '')),
    ua: leaf('[aws-cli/2.0]', fc.constantFrom('[]', '[', 'aws-sdk-go')),
    e: fc.tuple(extras, extras),
  })
  .map((v) => {
    const accessKeyId = v.keyKind === 'ASIA' ? v.key : v.keyKind === 'AKIA' ? 'AKIAEXAMPLE' : v.keyKind === 'hostile' ? '__proto__' : undefined;
    const record = obj(
      {
        eventVersion: '1.08', eventTime: v.time, eventSource: 's3.amazonaws.com', eventName: v.name, sourceIPAddress: v.source, userAgent: v.ua,
        recipientAccountId: '123456789012', eventID: 'ev-1', responseElements: obj({ ConsoleLogin: v.login }),
        userIdentity: obj({ type: 'AssumedRole', arn: 'arn:aws:sts::123456789012:assumed-role/r/alice', accountId: '123456789012', accessKeyId }, v.e[1]),
      },
      v.e[0],
    );
    return { format: 'cloudtrail' as const, raw: [v.key], record: asJson(record) };
  });

const ecs: fc.Arbitrary<Case> = fc
  .record({
    sid: rawSessionId,
    ts: leaf('2026-11-23T12:00:00.000Z', timeShapes),
    ip: leaf('203.0.113.7', ipShapes),
    category: leaf(['authentication'], fc.constantFrom('session', ['web'], [], 'authentication')),
    kind: leaf(['start'], fc.constantFrom('end', ['end'], ['info'])),
    outcome: leaf('success', fc.constantFrom('failure', 'unknown')),
    ua: leaf('Mozilla/5.0'),
    user: leaf('alice'),
    shape: fc.constantFrom('nested', 'flat', 'source', 'hit'),
    field: fc.oneof(fc.constant(undefined), fc.constantFrom('session.id', 'custom.sid', '__proto__.polluted', 'constructor.prototype', '..', '.', 'a.', '.a')),
    e: fc.tuple(extras, extras),
  })
  .map((v) => {
    const sessionField = v.field ?? 'session.id';
    const nested = obj(
      {
        '@timestamp': v.ts, ecs: { version: '8.11.0' }, event: obj({ category: v.category, type: v.kind, outcome: v.outcome, id: 'ev-1' }),
        source: obj({ ip: v.ip, as: { number: 64500 }, geo: { country_iso_code: 'US' } }, v.e[1]), user: obj({ name: v.user }), user_agent: obj({ original: v.ua }),
        session: { id: v.sid }, custom: { sid: v.sid },
      },
      v.e[0],
    );
    const flat = obj({ '@timestamp': v.ts, 'ecs.version': '8.11.0', 'source.ip': v.ip, 'session.id': v.sid, 'custom.sid': v.sid, 'user.name': v.user, 'user_agent.original': v.ua }, v.e[0]);
    const doc = v.shape === 'flat' ? flat : nested;
    const record = v.shape === 'source' ? { _source: doc } : v.shape === 'hit' ? { _id: 'h-1', _index: 'logs', _source: doc } : doc;
    return { format: 'ecs' as const, raw: [v.sid], record: asJson(record), ...(v.field !== undefined ? { opts: { sessionField } } : {}) };
  });

const clfTime = fc.oneof(
  { weight: 4, arbitrary: fc.constant('23/Nov/2026:12:00:00 +0000') },
  fc.tuple(fc.integer({ min: 0, max: 35 }), fc.constantFrom('Jan', 'Feb', 'nov', 'Foo'), fc.integer({ min: 1990, max: 2200 }), fc.integer({ min: 0, max: 25 }), fc.constantFrom('+0000', '-0700', '+9999', 'Z', ''))
    .map(([d, m, y, h, z]) => `${String(d).padStart(2, '0')}/${m}/${y}:${String(h).padStart(2, '0')}:00:00 ${z}`.trimEnd()),
  specialString.map((s) => s.replace(/]/g, '')),
);
/** A quoted field's content, with quotes and backslashes escaped the way Apache writes them (or not). */
const quoted = fc.oneof(fc.string({ maxLength: 30 }), specialString).map((s) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"'));

const accesslog: fc.Arbitrary<Case> = fc
  .record({
    sid: rawSessionId.map((s) => s.replace(/[\s;"\\]/g, '_')),
    host: fc.oneof({ weight: 3, arbitrary: fc.constant('203.0.113.7') }, { weight: 2, arbitrary: ipShapes }),
    time: clfTime,
    request: fc.oneof(fc.constant('GET /app HTTP/1.1'), fc.constant('GET /logout?x=1 HTTP/1.1'), quoted),
    status: fc.constantFrom('200', '-', '999', '20'),
    ua: fc.oneof(fc.constant('Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0'), quoted),
    cookieName: fc.constantFrom('SID', 'sid', 'OTHER'),
    extra: fc.constantFrom('cookie', 'cookie', 'header', 'none'),
    raw: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.string({ maxLength: 200 }) }),
    opts: fc.record(
      { sessionCookie: fc.constantFrom('SID', 'SID', '', ' ', '__proto__'), sessionHeader: fc.constantFrom('x-session', ''), extraFields: fc.constantFrom(['cookie'], ['x-session'], [], ['__proto__']), logoutPaths: fc.constantFrom(['/logout'], []) },
      { requiredKeys: ['sessionCookie'] },
    ),
  })
  .map((v) => {
    const tail = v.extra === 'cookie' ? ` "a=1; ${v.cookieName}=${v.sid}; b=2"` : v.extra === 'header' ? ` "${v.sid}"` : '';
    const line = v.raw ?? `${v.host} - alice [${v.time}] "${v.request}" ${v.status} 512 "https://example.com/" "${v.ua}"${tail}`;
    return { format: 'accesslog' as const, raw: [v.sid], record: line, opts: v.opts as AnyAdapterOptions };
  });

const VENDORS = { okta, auth0, entra, cloudtrail, ecs, accesslog } as const;
const anyVendor = fc.oneof(...Object.values(VENDORS));

// ---------------------------------------------------------------------------------------------------------------
// Checks

const KNOWN_REASONS = new Set<string>(SKIP_REASONS);

function inContract(result: AdapterResult, c: Case): void {
  if (!result.ok) {
    expect(KNOWN_REASONS.has(result.skip), result.skip).toBe(true);
    // internal_error means an adapter threw; on plain JSON (no getters, no proxies) that is a bug.
    expect(result.skip, result.message).not.toBe('internal_error');
    expect(typeof result.message).toBe('string');
    expect(result.message.length).toBeGreaterThan(0);
    return;
  }
  const parsed = canonicalEventSchema.safeParse(result.event);
  expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  // And what normalize makes of it carries the session only as its HMAC.
  const normalized = normalizeOne(result.event, hasher);
  expect(normalized.ok).toBe(true);
  const text = JSON.stringify(normalized);
  for (const raw of c.raw) expect(text.includes(raw), `raw session id in ${text.slice(0, 300)}`).toBe(false);
}

afterAll(() => {
  expect(isPolluted()).toBe(false);
});

describe('vendor adapters on near-valid records never throw and answer in contract', () => {
  for (const [name, gen] of Object.entries(VENDORS)) {
    it(`${name}: its own adapter and auto detection`, () => {
      fc.assert(
        fc.property(gen, (c) => {
          inContract(adapters[c.format].convert(c.record as never, c.opts as never), c);
          inContract(convertRecord(c.record, c.format, c.opts), c);
          inContract(convertRecord(c.record, 'auto', c.opts), c);
          expect(isPolluted()).toBe(false);
        }),
        params(250),
      );
    });
  }

  it('every adapter on every vendor record (the wrong adapter says unrecognized or skips, never throws)', () => {
    fc.assert(
      fc.property(anyVendor, (c) => {
        for (const name of ADAPTER_NAMES) {
          expect(typeof adapters[name].detect(c.record)).toBe('boolean');
          inContract(adapters[name].convert(c.record as never, c.opts as never), c);
        }
      }),
      params(200),
    );
  });

  it('auto is exactly the adapter detectFormat names (or unrecognized_record when none)', () => {
    fc.assert(
      fc.property(anyVendor, (c) => {
        const detected = detectFormat(c.record);
        const auto = convertRecord(c.record, 'auto', c.opts);
        if (detected === undefined) expect(auto).toMatchObject({ ok: false, skip: 'unrecognized_record' });
        else expect(auto).toEqual(convertRecord(c.record, detected, c.opts));
        // Deterministic.
        expect(convertRecord(c.record, 'auto', c.opts)).toEqual(auto);
      }),
      params(200),
    );
  });

  it('a near-valid record whose key fields are intact is recognised as its own vendor', () => {
    // The unmutated template of each vendor must be detected as that vendor, whatever was added around it.
    fc.assert(
      fc.property(fc.constantFrom(...(Object.keys(VENDORS) as (keyof typeof VENDORS)[])), extras, (name, extra) => {
        const templates: Record<keyof typeof VENDORS, unknown> = {
          okta: { uuid: 'u', published: '2026-11-23T12:00:00Z', eventType: 'user.session.start', client: { ipAddress: '203.0.113.7' }, authenticationContext: { externalSessionId: 's' } },
          auth0: { date: '2026-11-23T12:00:00Z', type: 's', log_id: 'l', ip: '203.0.113.7', details: { session_id: 's' } },
          entra: { createdDateTime: '2026-11-23T12:00:00Z', userPrincipalName: 'a@b', ipAddress: '203.0.113.7', sessionId: 's', status: { errorCode: 0 } },
          cloudtrail: { eventTime: '2026-11-23T12:00:00Z', eventSource: 's3.amazonaws.com', eventName: 'GetObject', sourceIPAddress: '203.0.113.7', userIdentity: { accessKeyId: 'ASIAX' } },
          ecs: { '@timestamp': '2026-11-23T12:00:00Z', source: { ip: '203.0.113.7' }, session: { id: 's' } },
          accesslog: '203.0.113.7 - - [23/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua" "SID=s"',
        };
        const t = templates[name];
        const record = typeof t === 'string' ? t : asJson(obj(t as Record<string, unknown>, extra));
        expect(detectFormat(record)).toBe(name);
        expect(convertRecord(record, 'auto', { sessionCookie: 'SID' }).ok).toBe(true);
      }),
      params(60),
    );
  });
});

describe('adapter options are input too (API query parameters)', () => {
  const options: fc.Arbitrary<AnyAdapterOptions> = fc.record(
    {
      defaultTenant: hostileString,
      sessionField: fc.oneof(hostileString, fc.constantFrom('__proto__', '__proto__.polluted', 'constructor.prototype.polluted', 'a'.repeat(128).split('').join('.'), '.'.repeat(256))),
      sessionCookie: hostileString,
      sessionHeader: hostileString,
      extraFields: fc.array(hostileString, { maxLength: 4 }),
      logoutPaths: fc.array(hostileString, { maxLength: 3 }),
      session: fc.constantFrom('auto', 'externalSessionId', 'dtHash'),
    },
    { requiredKeys: [] },
  );

  it('any options with any vendor record: in contract, no pollution', () => {
    fc.assert(
      fc.property(anyVendor, options, (c, opts) => {
        for (const format of [c.format, 'auto'] as const) {
          const result = convertRecord(c.record, format, opts);
          inContract(result, c);
          if (result.ok && opts.defaultTenant !== undefined && result.event.tenant !== undefined) expect(typeof result.event.tenant).toBe('string');
        }
        expect(isPolluted()).toBe(false);
      }),
      params(200),
    );
  });

  it('a dotted ECS session field over a record built to make path splitting branch costs no more than its size', () => {
    // Every prefix of "a.a.a..." exists as a key at every level, so the reader tries each split point; through
    // JSON nothing is shared, so the work stays proportional to the record (about 20 000 objects here).
    const depth = 9;
    let record: unknown = { '@timestamp': '2026-11-23T12:00:00Z', source: { ip: '203.0.113.7' } };
    for (let i = 0; i < depth; i++) {
      const level: Record<string, unknown> = {};
      for (let k = 1; k <= 3; k++) level[Array(k).fill('a').join('.')] = record;
      record = { ...level, '@timestamp': '2026-11-23T12:00:00Z', source: { ip: '203.0.113.7' } };
    }
    record = asJson(record);
    const field = Array(depth * 2).fill('a').join('.') + '.missing';
    const started = performance.now();
    const result = convertRecord(record, 'ecs', { sessionField: field });
    expect(result).toMatchObject({ ok: false, skip: 'no_session' });
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('deep and wide records', () => {
  it('deep values in every vendor field position are skipped or converted, never a stack overflow', () => {
    fc.assert(
      fc.property(anyVendor, fc.integer({ min: 1_000, max: 20_000 }), (c, depth) => {
        if (typeof c.record !== 'object' || c.record === null) return;
        const record = { ...(c.record as Record<string, unknown>) };
        for (const k of Object.keys(record).slice(0, 3)) record[k] = deepValue(depth, 'object');
        for (const name of ADAPTER_NAMES) inContract(adapters[name].convert(record), c);
        inContract(convertRecord(record, 'auto'), c);
      }),
      params(40),
    );
  });

  it('an object with 100 000 keys is read in linear time', () => {
    const wide: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) wide[`K${i}`] = i;
    Object.assign(wide, { eventType: 'user.session.start', published: '2026-11-23T12:00:00Z' });
    const started = performance.now();
    for (const name of ADAPTER_NAMES) adapters[name].convert(wide);
    convertRecord(wide, 'auto');
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Findings: minimal failing cases, `it.fails` until src/ is fixed.
// ---------------------------------------------------------------------------------------------------------------
describe('known defects (it.fails until fixed in src/)', () => {
  // BUG (low): a skipped access-log line's message quotes the first 80 characters of the line, Cookie header
  // included (src/events/adapters/accesslog.ts, skip 'unparseable_line'). The message is returned in the API's
  // 202 `rejected[].message` and printed by `replayguard scan` on stderr, so a truncated or custom-format line that
  // carries the session cookie early puts the raw cookie in an answer and on a terminal/log. Counterexample:
  // convertRecord('203.0.113.7 "SID=RAWSID-secret-cookie"', 'accesslog', {sessionCookie: 'SID'}).message ===
  // 'not a combined/common log line: 203.0.113.7 "SID=RAWSID-secret-cookie"'.
  it('skip messages never quote the session cookie of the line', () => {
    const line = '203.0.113.7 "SID=RAWSID-secret-cookie"';
    const result = convertRecord(line, 'accesslog', { sessionCookie: 'SID' });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).not.toContain('RAWSID-secret-cookie');
  });

  // BUG (low): most skip messages cut what they quote (slice(0, 40..200)), but some quote a whole field: Okta
  // `${eventType} is an Okta system notice` / `... by actor type ${actorType}`, CloudTrail
  // `${eventName} signed with a long-term access key` / `carries no temporary access key`, Entra
  // `signInEventTypes ${types.join(',')}`. One 1 MB eventType makes a 1 MB message per record in the API answer and
  // on scan's stderr. Counterexample: okta {eventType: 'system.' + 'x'.repeat(1e6), ...} → message of 1 000 028
  // characters.
  it('skip messages are bounded whatever the record holds', () => {
    const big = 'x'.repeat(1_000_000);
    const records: [AdapterName, unknown][] = [
      ['okta', { eventType: `system.${big}`, published: '2026-11-23T12:00:00Z' }],
      ['okta', { eventType: `zzz.${big}`, published: '2026-11-23T12:00:00Z', actor: { type: big } }],
      ['cloudtrail', { eventName: big, eventSource: 's3', eventTime: '2026-11-23T12:00:00Z', sourceIPAddress: '203.0.113.7', userIdentity: { accessKeyId: 'AKIAX' } }],
      ['entra', { createdDateTime: '2026-11-23T12:00:00Z', appId: 'a', status: {}, signInEventTypes: ['servicePrincipal', big] }],
    ];
    for (const [format, record] of records) {
      const result = convertRecord(record, format);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.message.length, format).toBeLessThan(1_000);
    }
  });

  // BUG (minor): finish() (src/events/adapters/common.ts) cuts the user agent with slice(0, 2048), in UTF-16 code
  // units, so a cut through an astral character leaves a lone high surrogate at the end of user_agent (an ill-formed
  // string that strict UTF-8 consumers reject). Counterexample: Okta rawUserAgent 'a' + '😀'.repeat(1500) →
  // user_agent of 2048 units ending in \uD83D. (The canonical schema counts the same limit in code points.)
  it('a cut user agent is still well-formed text', () => {
    const ua = 'a' + '\u{1F600}'.repeat(1500);
    const record = { uuid: 'u', published: '2026-11-23T12:00:00Z', eventType: 'user.session.start', client: { ipAddress: '203.0.113.7', userAgent: { rawUserAgent: ua } }, authenticationContext: { externalSessionId: 's' } };
    const result = convertRecord(record, 'okta');
    expect(result.ok).toBe(true);
    const out = result.ok ? result.event.user_agent ?? '' : '';
    expect(out.length).toBeGreaterThan(0);
    expect(/[\uD800-\uDBFF]$/.test(out), 'ends in a lone high surrogate').toBe(false);
  });
});

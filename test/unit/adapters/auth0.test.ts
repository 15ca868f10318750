import { describe, expect, it } from 'vitest';
import { auth0Adapter } from '../../../src/events/adapters/auth0.js';
import { converted, pantherLog, pantherRows, runAll, skipped } from './corpus.js';

const rows = pantherRows('Auth0.Events');
const logs = rows.map((r) => r.log);
const log = (rule: string, test: string) => pantherLog(rows, rule, test);

describe('auth0 adapter over the Panther Auth0.Events corpus', () => {
  it('converts or skips every record with a known reason, in the expected numbers', () => {
    expect(logs).toHaveLength(57);
    const t = runAll(auth0Adapter, logs);
    expect(t.converted).toBe(46);
    // Almost all of Panther's Auth0 tests are Management API operations (sapi) keyed by their token's jti.
    expect(t.byType).toEqual({ request: 44, login_failed: 1, revoke: 1 });
    expect(t.skipped).toEqual({
      irrelevant_event_type: 9, // signup_pwd_leak, gd_send_pn, gd_enrollment_complete
      no_session: 2, // pwd_leak and limit_wc carry neither session_id nor a token
    });
  });

  it('a failed cross-origin authentication carries the Auth0 session id from details', () => {
    expect(converted(auth0Adapter.convert(log('Auth0.CIC.Credential.Stuffing', 'FCOA Event')))).toEqual({
      id: '90020241029185251974499000000000000001223372087732751235',
      time: '2024-10-29T18:52:51.953Z',
      type: 'login_failed',
      session_id: 'OJ0d2L-gDTvkmwEctP8d3XwtLD8Yu1qh',
      ip: '2605:59c8:3075:214:d003:e902:2b01:dc14',
      user_agent:
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
      tenant: 'auth.clientdomain.com',
      app: 'EmEDkk1wKV0bmzZut3rbEC5vxBE6UiZV',
    });
  });

  it('ferrt (rotating refresh token reused) revokes and carries the token_reuse signal', () => {
    const e = converted(auth0Adapter.convert(log('Auth0.RefreshToken.Reuse', 'Auth0 Bot Detection Policy Disabled')));
    expect(e).toMatchObject({ type: 'revoke', session_id: 'jti:0000000000ecaf1bfbadb06900d22049', user_id: 'google-oauth2|105261262156475850461' });
    expect(e.signals).toEqual(['token_reuse']);
  });

  it('only ferrt carries a signal: a plain refresh-token revocation (srrt) and every other corpus event have none', () => {
    const t = runAll(auth0Adapter, logs);
    const withSignal = t.results.filter((r) => r.ok && r.event.signals !== undefined);
    expect(withSignal).toHaveLength(1);
    const srrt = converted(auth0Adapter.convert({ type: 'srrt', date: '2024-01-01T00:00:00.000Z', log_id: 'l-1', ip: '192.0.2.1', details: { session_id: 's-1' } }));
    expect(srrt.type).toBe('revoke');
    expect(srrt.signals).toBeUndefined();
  });

  it('a Management API operation is a request on its token, with the Management API log id', () => {
    const e = converted(auth0Adapter.convert(log('Auth0.User.Invitation.Created', 'Test-org')));
    expect(e).toMatchObject({
      id: '90020230616045255729813000000000000001223372038324184656',
      time: '2023-06-16T04:52:50.663Z',
      type: 'request',
      session_id: 'jti:81a67a5a3b2c4fb5cc2fcf38349456dd',
      ip: '123.123.123.123',
      user_agent: 'Chrome 114.0.0 / Mac OS X 10.15.7',
    });
  });

  it('skips what is not a session event and what names no session', () => {
    expect(skipped(auth0Adapter.convert(log('Auth0.PushNotification.Fatigue', 'Push Notification Fatigue')))).toBe('irrelevant_event_type');
    expect(skipped(auth0Adapter.convert(log('Auth0.Limits', 'Limit WC Event')))).toBe('no_session');
  });
});

describe('auth0 envelopes and type codes', () => {
  const login = {
    date: '2021-01-16T12:12:30.147Z',
    type: 's',
    log_id: '80020210116121232560015923748216455316604749397232713763',
    user_name: 'altha@example.co.uk',
    user_id: 'auth0|6012d7ec',
    ip: '203.0.113.4',
    client_id: 'WflrpooXWyDv3vzf6LxIzYBd6fafewjw',
    hostname: 'thiscovery.eu.auth0.com',
    user_agent: 'Chrome 87.0.4280 / Mac OS X 10.15.7',
    details: { session_id: 'dt1G5nlxkGV10uJx4sKKBH7hwEVbaHAx' },
  };
  const expected = {
    id: '80020210116121232560015923748216455316604749397232713763',
    time: '2021-01-16T12:12:30.147Z',
    type: 'login',
    session_id: 'dt1G5nlxkGV10uJx4sKKBH7hwEVbaHAx',
    user_id: 'auth0|6012d7ec',
    ip: '203.0.113.4',
    user_agent: 'Chrome 87.0.4280 / Mac OS X 10.15.7',
    tenant: 'thiscovery.eu.auth0.com',
    app: 'WflrpooXWyDv3vzf6LxIzYBd6fafewjw',
  };

  it('reads the Management API shape', () => {
    expect(converted(auth0Adapter.convert(login))).toEqual(expected);
  });

  it('reads the log-stream shape', () => {
    expect(converted(auth0Adapter.convert({ log_id: login.log_id, data: login }))).toEqual(expected);
  });

  it('reads the EventBridge shape and takes the tenant from its source', () => {
    const bridged = {
      'detail-type': 'Auth0 log',
      source: 'aws.partner/auth0.com/thiscovery-2308531e-1ba0-4824-a5de-5fa1d5928ea4/auth0.logs',
      detail: { data: { ...login, hostname: undefined } },
    };
    expect(converted(auth0Adapter.convert(bridged)).tenant).toBe('thiscovery');
  });

  it('maps session lifecycle codes', () => {
    const t = (type: string) => converted(auth0Adapter.convert({ ...login, type })).type;
    expect(t('ssa')).toBe('request');
    expect(t('sertft')).toBe('refresh');
    expect(t('slo')).toBe('logout');
    expect(t('fsa')).toBe('login_failed');
    expect(t('fp')).toBe('login_failed');
    expect(skipped(auth0Adapter.convert({ ...login, type: 'ss' }))).toBe('irrelevant_event_type');
    expect(skipped(auth0Adapter.convert({ ...login, type: 'seccft' }))).toBe('irrelevant_event_type');
  });

  it('falls back to user_name for failed logins of unknown users', () => {
    expect(converted(auth0Adapter.convert({ ...login, type: 'fu', user_id: '' })).user_id).toBe('altha@example.co.uk');
  });

  it('never takes an inherited property for a type code', () => {
    expect(skipped(auth0Adapter.convert({ ...login, type: 'constructor' }))).toBe('irrelevant_event_type');
    expect(skipped(auth0Adapter.convert({ ...login, type: '__proto__' }))).toBe('irrelevant_event_type');
  });
});

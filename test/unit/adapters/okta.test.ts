import { describe, expect, it } from 'vitest';
import { oktaAdapter } from '../../../src/events/adapters/okta.js';
import { converted, pantherLog, pantherRows, runAll, skipped } from './corpus.js';

const rows = pantherRows('Okta.SystemLog');
const logs = rows.map((r) => r.log);
const log = (rule: string, test: string) => pantherLog(rows, rule, test);

describe('okta adapter over the Panther Okta.SystemLog corpus', () => {
  it('converts or skips every record with a known reason, in the expected numbers', () => {
    expect(logs).toHaveLength(88);
    const t = runAll(oktaAdapter, logs);
    expect(t.converted).toBe(47);
    // login_failed: only the failure before any session (an idx pre-authentication id); the other failures present
    // an issued session id and count as uses of it (requests).
    expect(t.byType).toEqual({ login: 12, login_failed: 1, request: 33, revoke: 1 });
    expect(t.skipped).toEqual({
      irrelevant_event_type: 16, // system.*, security.threat.detected, application.integration.*
      no_session: 10, // no externalSessionId and no dtHash
      missing_time: 8, // Panther test events without published or p_event_time
      invalid_time: 3, // published: "redacted" (the PotentiallyStolenSession tests)
      service_source_ip: 1, // Okta-Integrations: Okta's own servers, not the user's client
      unrecognized_record: 2, // enrichment-only rows without an eventType
      not_user_activity: 1, // eventType "logout" with no actor
    });
  });

  it('maps a successful user.session.start field by field', () => {
    expect(converted(oktaAdapter.convert(log('Okta.Login.Success', 'Successful Login')))).toEqual({
      id: 'aac560bd-f125-11ee-9caa-cd5d09945def',
      time: '2024-04-02T19:17:37.621Z', // Panther's zone-less "2024-04-02 19:17:37.621000000" is UTC
      type: 'login',
      session_id: 'idxvF50v_5sT2-GOA7_K0Amyw',
      user_id: 'casey.hill@hey.com',
      ip: '99.108.5.25',
      user_agent:
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36',
      device_id: 'f23be3b6d8bfd69c14e0d1b33e790b84fa5358eab0a09a1058816ad65d633da4',
      app: 'Okta Dashboard',
      asn: 7018,
      is_proxy: false,
      // client.geographicalContext.country is "United States": a name, so no country at all
    });
  });

  it('a failed sign-in is login_failed with the same session identity', () => {
    const e = converted(oktaAdapter.convert(log('Okta.Login.Success', 'Failed Login')));
    expect(e.type).toBe('login_failed');
    expect(e.session_id).toBe('idxvF50v_5sT2-GOA7_K0Amyw');
  });

  it('reads lower-cased keys (Panther re-serialisation) and carries isProxy', () => {
    const e = converted(oktaAdapter.convert(log('Okta.Anonymizing.VPN.Login', 'Anonymizing Proxy Used')));
    // A failed user.session.start that presented an issued session id (not idx…): a use of that session.
    expect(e).toMatchObject({ id: 'AbC-123-XyZ', type: 'request', session_id: '100-abc-9999', ip: '1.3.2.4', asn: 701, is_proxy: true });
  });

  it('a failed MFA verification inside an issued session is a use of it; the same failure before a session is login_failed', () => {
    const mfa = log('Okta.Phishing.Attempt.Blocked.FastPass', 'FastPass Phishing Block Event');
    expect(converted(oktaAdapter.convert(mfa))).toMatchObject({ type: 'request', session_id: '100-abc-9999' });
    const preAuth = { ...mfa, authenticationContext: { externalSessionId: 'idx5xK0example' } };
    expect(converted(oktaAdapter.convert(preAuth)).type).toBe('login_failed');
    const noSession = { ...mfa, authenticationContext: { externalSessionId: 'unknown' }, debugContext: { debugData: { dtHash: 'dev1' } } };
    expect(converted(oktaAdapter.convert(noSession))).toMatchObject({ type: 'login_failed', session_id: 'dt:dev1' });
  });

  it("events written by Okta's own servers (Okta-Integrations) are not the user's client", () => {
    const internal = { ...log('Okta.PotentiallyStolenSession', 'Okta internal event should be ignored'), published: '2024-01-15T10:30:00Z' };
    expect(skipped(oktaAdapter.convert(internal))).toBe('service_source_ip');
  });

  it('app.oauth2.token.detect_reuse ends the session (revoke) with the token_reuse signal', () => {
    const e = converted(oktaAdapter.convert(log('Okta.Refresh.Access.Token.Reuse', 'Reuse Event')));
    expect(e).toMatchObject({ type: 'revoke', session_id: '123456789', device_id: '11aabbccc', time: '2022-12-13T15:22:58.759Z' });
    expect(e.signals).toEqual(['token_reuse']);
    // The actor is the OAuth client, not a person.
    expect(e.user_id).toBeUndefined();
  });

  it('the custom authorization server variant (app.oauth2.as.token.detect_reuse) is the same; other events carry no signal', () => {
    const reuse = { ...log('Okta.Refresh.Access.Token.Reuse', 'Reuse Event'), eventType: 'app.oauth2.as.token.detect_reuse' };
    expect(converted(oktaAdapter.convert(reuse))).toMatchObject({ type: 'revoke', signals: ['token_reuse'] });
    const t = runAll(oktaAdapter, logs);
    expect(t.results.filter((r) => r.ok && r.event.signals !== undefined)).toHaveLength(1);
  });

  it('policy.evaluate_sign_on with CHALLENGE is a use of the session', () => {
    const e = converted(oktaAdapter.convert(log('Okta.New.Behavior.Accessing.Admin.Console', 'New Behavior Accessing Admin Console (behavior)')));
    expect(e).toMatchObject({ type: 'request', app: 'Okta Admin Console', session_id: '100-abc-9999' });
  });

  it('admin actions in a session count as requests; Okta system notices do not', () => {
    expect(converted(oktaAdapter.convert(log('Okta.Group.Admin.Role.Assigned', 'Group Privilege Grant'))).type).toBe('request');
    expect(skipped(oktaAdapter.convert(log('Okta.Rate.Limits', 'system.org.ratelimit.warning')))).toBe('irrelevant_event_type');
    expect(skipped(oktaAdapter.convert(log('Okta.ThreatInsight.Security.Threat.Detected', 'Threat Detected Event - Deny')))).toBe('irrelevant_event_type');
  });

  it('user.account.lock is a failed sign-in, unless it presented an issued session', () => {
    const lock = log('Okta.User.Account.Locked', 'Account Lock Event');
    expect(converted(oktaAdapter.convert(lock)).type).toBe('request'); // externalSessionId abcd-1234
    expect(converted(oktaAdapter.convert({ ...lock, authenticationContext: { externalSessionId: 'unknown' } })).type).toBe('login_failed');
  });

  it('country names are never turned into codes', () => {
    const e = converted(oktaAdapter.convert(log('Standard.SignInFromRogueState', 'Okta - Rogue State Sign-In')));
    expect(e.country).toBeUndefined();
    expect(e.session_id).toBe('EXAMPLE_SESSION_ID');
  });

  it('redacted timestamps are invalid_time, not a guess', () => {
    expect(skipped(oktaAdapter.convert(log('Okta.PotentiallyStolenSession', 'Different device & ASN')))).toBe('invalid_time');
  });

  it('records without any session identity are no_session', () => {
    expect(skipped(oktaAdapter.convert(log('Standard.BruteForceByIP', 'Okta - Failed Login')))).toBe('no_session');
  });
});

describe('okta session identity modes', () => {
  const base = {
    uuid: 'u-1',
    published: '2024-05-01T10:00:00.000Z',
    eventType: 'policy.evaluate_sign_on',
    outcome: { result: 'ALLOW' },
    actor: { type: 'User', alternateId: 'a@example.com' },
    client: { ipAddress: '203.0.113.9', userAgent: { rawUserAgent: 'UA' }, geographicalContext: { country: 'de' } },
    authenticationContext: { externalSessionId: '102abc' },
    debugContext: { debugData: { dtHash: 'hash1' } },
  };

  it('auto prefers externalSessionId and always exports dtHash as device_id', () => {
    expect(converted(oktaAdapter.convert(base))).toMatchObject({ session_id: '102abc', device_id: 'hash1', country: 'DE' });
  });

  it('auto falls back to the device token when the session id is a placeholder', () => {
    const noSession = { ...base, authenticationContext: { externalSessionId: 'unknown' } };
    expect(converted(oktaAdapter.convert(noSession)).session_id).toBe('dt:hash1');
    expect(skipped(oktaAdapter.convert(noSession, { session: 'externalSessionId' }))).toBe('no_session');
  });

  it('dtHash mode keys every event by the device token', () => {
    expect(converted(oktaAdapter.convert(base, { session: 'dtHash' })).session_id).toBe('dt:hash1');
  });

  it('user.session.end is a logout; a denied evaluation is a failed sign-in before a session, a use inside one', () => {
    expect(converted(oktaAdapter.convert({ ...base, eventType: 'user.session.end' })).type).toBe('logout');
    expect(converted(oktaAdapter.convert({ ...base, outcome: { result: 'DENY' } })).type).toBe('request');
    expect(converted(oktaAdapter.convert({ ...base, outcome: { result: 'DENY' }, authenticationContext: { externalSessionId: 'idx1' } })).type).toBe('login_failed');
    expect(converted(oktaAdapter.convert({ ...base, eventType: 'app.oauth2.as.token.grant.refresh_token' })).type).toBe('refresh');
  });

  it('the native ISO published with an offset becomes UTC', () => {
    expect(converted(oktaAdapter.convert({ ...base, published: '2024-05-01T12:00:00.5+02:00' })).time).toBe('2024-05-01T10:00:00.500Z');
  });

  it('an event by a non-user actor outside the auth flow is not user activity', () => {
    expect(skipped(oktaAdapter.convert({ ...base, eventType: 'group.user_membership.add', actor: { type: 'SystemPrincipal' } }))).toBe('not_user_activity');
  });

  it('defaultTenant applies because Okta records name no tenant', () => {
    expect(converted(oktaAdapter.convert(base, { defaultTenant: 'acme' })).tenant).toBe('acme');
  });
});

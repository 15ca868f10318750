import { describe, expect, it } from 'vitest';
import { entraAdapter } from '../../../src/events/adapters/entra.js';
import { converted, pantherLog, pantherRows, runAll, skipped } from './corpus.js';

const rows = pantherRows('Azure.Audit');
const logs = rows.map((r) => r.log);
const log = (rule: string, test: string) => pantherLog(rows, rule, test);

describe('entra adapter over the Panther Azure.Audit corpus (diagnostic-settings format)', () => {
  it('converts or skips every record with a known reason, in the expected numbers', () => {
    expect(logs).toHaveLength(48);
    const t = runAll(entraAdapter, logs);
    expect(t.converted).toBe(3);
    expect(t.byType).toEqual({ login: 2, refresh: 1 });
    expect(t.skipped).toEqual({
      irrelevant_event_type: 21, // AuditLogs, Policy, DirectoryManagement, ApplicationManagement
      no_session: 15, // user sign-ins without properties.sessionId (no correlationId fallback, by design)
      not_user_activity: 9, // ServicePrincipalSignInLogs
    });
  });

  it('maps an interactive sign-in field by field', () => {
    expect(converted(entraAdapter.convert(log('Azure.Audit.GraphSessionMultipleIPs', 'Multiple IP Access to Same Microsoft Graph Session')))).toEqual({
      time: '2025-01-15T09:35:20.456Z', // properties.createdDateTime, 7 fractional digits
      type: 'login',
      session_id: 'session-abc-123',
      user_id: 'gandalf@lotr.com',
      ip: '5.5.5.5',
      user_agent: 'python-requests/2.28.1',
      tenant: 'tenant-123',
      app: 'app-custom-789',
    });
  });

  it('a non-interactive sign-in is a refresh of the same session', () => {
    const e = converted(
      entraAdapter.convert(log('Azure.Audit.GraphSessionMultipleIPs', 'Non-Interactive Sign-In via NonInteractiveUserSignInLogs Category')),
    );
    expect(e).toMatchObject({
      type: 'refresh',
      session_id: '00baf379-e510-523f-1c0e-346163d4a768',
      tenant: '18360841-3f87-44a6-8c9a-3ffc680611a0',
      time: '2026-02-18T07:32:50.552Z',
      ip: '203.0.113.10',
    });
  });

  it('service principal sign-ins and audit records are not sessions', () => {
    expect(skipped(entraAdapter.convert(log('Azure.Audit.ManyFailedSignIns', 'Failed Sign-In')))).toBe('not_user_activity');
    expect(skipped(entraAdapter.convert(log('Azure.Audit.MFADisabled', 'MFA Disabled Successful')))).toBe('irrelevant_event_type');
  });

  it('a sign-in without sessionId is skipped even though it has a correlationId', () => {
    const r = log('Azure.Audit.HighRiskSignIn', 'High Risk During Sign-In');
    expect(r['correlationId']).toBe('a1b2c3d4-e5f6-7890-abcd-ef1234567890');
    expect(skipped(entraAdapter.convert(r))).toBe('no_session');
  });
});

describe('entra Graph signIn and status handling', () => {
  const graph = {
    id: '66ea54eb-6301-4ee5-be62-ff5a759b0100',
    createdDateTime: '2023-12-01T16:03:35Z',
    userPrincipalName: 'testaccount1@contoso.com',
    userId: '26be570a-ae82-4189-b4e2-a37c6808512d',
    appId: 'de8bc8b5-d9f9-48b1-a8ad-b748da725064',
    appDisplayName: 'Graph Explorer',
    ipAddress: '2a01:111:f400::1',
    correlationId: 'd79f5bee-5860-4832-928f-3133e22ae912',
    isInteractive: true,
    sessionId: 'a8a6b1c2-0000-4000-8000-00000000cafe',
    uniqueTokenIdentifier: 'ZTE0OTk3YTQtNDk0Ni00OGE1LThjZWMtZjhhMzZiNTY3MDA1',
    userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
    autonomousSystemNumber: 8075,
    resourceTenantId: 'b7e4a1c2-1111-2222-3333-444455556666',
    homeTenantId: 'b7e4a1c2-1111-2222-3333-444455556666',
    deviceDetail: { deviceId: 'dev-42', operatingSystem: 'Windows10', browser: 'Edge 120' },
    location: { city: 'Redmond', state: 'Washington', countryOrRegion: 'US' },
    status: { errorCode: 0, failureReason: 'Other.', additionalDetails: null },
    signInEventTypes: ['interactiveUser'],
  };

  it('maps a Graph signIn field by field', () => {
    expect(converted(entraAdapter.convert(graph))).toEqual({
      id: '66ea54eb-6301-4ee5-be62-ff5a759b0100',
      time: '2023-12-01T16:03:35.000Z',
      type: 'login',
      session_id: 'a8a6b1c2-0000-4000-8000-00000000cafe',
      user_id: 'testaccount1@contoso.com',
      ip: '2a01:111:f400::1',
      user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
      tenant: 'b7e4a1c2-1111-2222-3333-444455556666',
      device_id: 'dev-42',
      app: 'de8bc8b5-d9f9-48b1-a8ad-b748da725064',
      asn: 8075,
      country: 'US',
    });
  });

  it('a non-zero errorCode is a failed sign-in; non-interactive success is a refresh', () => {
    expect(converted(entraAdapter.convert({ ...graph, status: { errorCode: 50126 } })).type).toBe('login_failed');
    expect(converted(entraAdapter.convert({ ...graph, isInteractive: false, signInEventTypes: ['nonInteractiveUser'] })).type).toBe('refresh');
  });

  it('Graph service-principal sign-ins are not user activity', () => {
    expect(skipped(entraAdapter.convert({ ...graph, isInteractive: undefined, signInEventTypes: ['servicePrincipal'] }))).toBe('not_user_activity');
  });

  it('diagnostic resultType decides when properties carry no status', () => {
    const diag = {
      time: '2024-03-01T10:00:05Z',
      category: 'SignInLogs',
      tenantId: 'tenant-x',
      resultType: '50074',
      callerIpAddress: '198.51.100.7',
      operationName: 'Sign-in activity',
      properties: { createdDateTime: '2024-03-01T10:00:00Z', sessionId: 's-1', userPrincipalName: 'x@y.z' },
    };
    expect(converted(entraAdapter.convert(diag))).toMatchObject({ type: 'login_failed', ip: '198.51.100.7', tenant: 'tenant-x', time: '2024-03-01T10:00:00.000Z' });
    expect(converted(entraAdapter.convert({ ...diag, resultType: 0 })).type).toBe('login');
  });

  it('country names are omitted', () => {
    expect(converted(entraAdapter.convert({ ...graph, location: { countryOrRegion: 'China' } })).country).toBeUndefined();
  });
});

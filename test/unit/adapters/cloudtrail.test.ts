import { beforeAll, describe, expect, it } from 'vitest';
import type { CanonicalEventInput } from '../../../src/events/schema.js';
import { cloudtrailAdapter } from '../../../src/events/adapters/cloudtrail.js';
import { converted, pantherLog, pantherRows, readJsonLines, runAll, skipped } from './corpus.js';

const rows = pantherRows('AWS.CloudTrail');
const logs = rows.map((r) => r.log);
const log = (rule: string, test: string) => pantherLog(rows, rule, test);

describe('cloudtrail adapter over the Panther AWS.CloudTrail corpus (signin.amazonaws.com)', () => {
  it('converts or skips every record with a known reason, in the expected numbers', () => {
    expect(logs).toHaveLength(37);
    const t = runAll(cloudtrailAdapter, logs);
    expect(t.converted).toBe(27);
    expect(t.byType).toEqual({ login: 21, login_failed: 5, request: 1 });
    expect(t.skipped).toEqual({
      no_session: 5, // AssumeRole/GetSigninToken/PasswordUpdated without a temporary key; a login naming no principal
      missing_time: 3,
      invalid_time: 1, // "redacted"
      missing_ip: 1,
    });
  });

  it('an SSO console sign-in keys the session by its temporary access key', () => {
    expect(converted(cloudtrailAdapter.convert(log('AWS.CloudTrail.UserAccessKeyAuth', 'Console Login')))).toEqual({
      id: '364ad368-42bf-4e05-a500-971ddfe8ebff',
      time: '2024-06-02T19:41:40.000Z',
      type: 'login',
      session_id: 'ASIASXP6SDP2HUZY3TOB',
      user_id: 'arn:aws:sts::187901811700:assumed-role/AWSReservedSSO_DevAdmin_635426549a280cc6/nicholas.hakmiller',
      ip: '73.252.165.138',
      user_agent: expect.stringMatching(/^Mozilla\/5\.0 \(Macintosh/),
      tenant: '187901811700',
      app: 'signin.amazonaws.com',
    });
  });

  it('an IAM user console sign-in starts a console session named by principal and time', () => {
    const e = converted(cloudtrailAdapter.convert(log('AWS.Unsuccessful.MFA.attempt', 'Successful Login w/ MFA')));
    expect(e).toMatchObject({
      id: 'fed06f42-cb12-4764-8c69-121063dc79b9',
      type: 'login',
      session_id: 'console:arn:aws:iam::111122223333:user/anaya@2022-11-10T16:24:34.000Z',
      ip: '192.0.2.0',
      tenant: '111122223333',
    });
  });

  it('ConsoleLogin Failure is login_failed', () => {
    expect(converted(cloudtrailAdapter.convert(log('AWS.Console.RootLoginFailed', 'Failed Root Login'))).type).toBe('login_failed');
  });

  it('GetSigninToken with stolen session credentials is a request of that session', () => {
    expect(converted(cloudtrailAdapter.convert(log('AWS.Console.GetSigninToken.Abuse', 'Suspicious GetSigninToken')))).toMatchObject({
      type: 'request',
      session_id: 'ASIAIOSFODNN7EXAMPLE',
      user_agent: 'python-requests/2.28.0',
    });
  });

  it('records without a key or principal are no_session', () => {
    expect(skipped(cloudtrailAdapter.convert(log('AWS.CloudTrail.RootPasswordChanged', 'Root Password Changed')))).toBe('no_session');
  });
});

describe('cloudtrail adapter over the OTRF stolen EC2 role credentials recording', () => {
  const records = readJsonLines<Record<string, unknown>>('otrf-security-datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json');
  let t: ReturnType<typeof runAll>;
  let events: CanonicalEventInput[];
  beforeAll(() => {
    t = runAll(cloudtrailAdapter, records);
    events = t.results.flatMap((r) => (r.ok ? [r.event] : []));
  });

  it('converts every user and role call, and skips the AWS service calls with a counted reason', () => {
    expect(records).toHaveLength(103);
    expect(t.converted).toBe(98);
    expect(t.byType).toEqual({ request: 98 });
    // AssumeRole by ec2.amazonaws.com (instance-profile delivery): sourceIPAddress is the service's name.
    expect(t.skipped).toEqual({ service_source_ip: 5 });
  });

  it('the stolen role session: 11 aws-cli calls on ASIA5FLZVX4OPVKKVBMX, time from @timestamp', () => {
    const attacker = events.filter((e) => e.session_id === 'ASIA5FLZVX4OPVKKVBMX');
    expect(attacker).toHaveLength(11);
    for (const e of attacker) {
      // S3 data events bracket the user agent; the adapter unwraps it so both event kinds read alike.
      expect(e.user_agent).toBe('aws-cli/1.18.136 Python/3.8.5 Darwin/19.5.0 botocore/1.17.59');
      expect(e.user_id).toBe('arn:aws:sts::123456789123:assumed-role/MordorNginxStack-BankingWAFRole-9S3E0UAE1MM0/i-0317f6c6b66ae9c40');
      expect(e.tenant).toBe('123456789123');
      expect(e.ip).toBe('1.2.3.4'); // anonymised in the dataset
    }
    const first = attacker.find((e) => e.id === '7d91ac29-614a-4af9-af5c-c5a80e63a0bb');
    expect(first).toMatchObject({ time: '2020-09-14T01:00:04.000Z', app: 's3.amazonaws.com' });
  });

  it('the benign console session: 87 calls by pedro on ASIA5FLZVX4OI4ZDQJOL', () => {
    const pedro = events.filter((e) => e.session_id === 'ASIA5FLZVX4OI4ZDQJOL');
    expect(pedro).toHaveLength(87);
    expect(new Set(pedro.map((e) => e.user_id))).toEqual(new Set(['arn:aws:iam::123456789123:user/pedro']));
  });
});

describe('cloudtrail edge cases', () => {
  const call = {
    eventVersion: '1.08',
    eventID: 'e-1',
    eventTime: '2024-02-02T02:02:02Z',
    eventSource: 's3.amazonaws.com',
    eventName: 'GetObject',
    sourceIPAddress: '198.51.100.20',
    userAgent: 'Boto3/1.34',
    recipientAccountId: '111122223333',
    userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/R/s', accessKeyId: 'ASIAEXAMPLE1' },
  };

  it('long-term keys are not sessions', () => {
    expect(skipped(cloudtrailAdapter.convert({ ...call, userIdentity: { ...call.userIdentity, accessKeyId: 'AKIAEXAMPLE1' } }))).toBe('long_term_credentials');
  });

  it('"AWS Internal" and service names are service sources, other non-addresses are invalid_ip', () => {
    expect(skipped(cloudtrailAdapter.convert({ ...call, sourceIPAddress: 'AWS Internal' }))).toBe('service_source_ip');
    expect(skipped(cloudtrailAdapter.convert({ ...call, sourceIPAddress: 'cloudtrail.amazonaws.com' }))).toBe('service_source_ip');
    expect(skipped(cloudtrailAdapter.convert({ ...call, sourceIPAddress: 'not-an-ip' }))).toBe('invalid_ip');
  });

  it('sign-in steps are not session activity', () => {
    expect(skipped(cloudtrailAdapter.convert({ ...call, eventName: 'CredentialVerification' }))).toBe('irrelevant_event_type');
  });
});

// AWS CloudTrail management and data events (S3 log files' Records[], CloudTrail Lake, EventBridge `detail`, or a
// Logstash/SIEM re-export where eventTime became `@timestamp`).
//
// Session identity. A CloudTrail "session" is a set of temporary STS credentials: userIdentity.accessKeyId
// starting with ASIA (AssumeRole, GetSessionToken, federation, EC2 instance profiles, and the console's own
// per-service credentials). Whoever holds key + secret + token is the session; stolen instance-profile or SSO
// credentials replay exactly this key, so it is the session_id. Long-term AKIA keys are not sessions and are
// skipped. A ConsoleLogin by an IAM user or root has no key at all: it becomes `console:<principal arn>@<time>`,
// a session that starts there. Later console API calls carry their own ASIA keys and are not joined to it, because
// AWS documents no field that links the two.
import type { EventType } from '../schema.js';
import { finish, firstText, get, guard, isObj, own, parseIp, parseTime, safeDetect, skip, text } from './common.js';
import type { Adapter, AdapterOptions, AdapterResult } from './types.js';

export type CloudTrailOptions = AdapterOptions;

/** signin.amazonaws.com steps inside one login (password and MFA checks): the ConsoleLogin is the event that counts. */
const SIGNIN_STEPS = new Set(['CheckMfa', 'CredentialChallenge', 'CredentialVerification', 'UserAuthentication']);

/**
 * The caller was an AWS service acting on its own behalf: CloudTrail writes the service's DNS name (or
 * "AWS Internal") where a client IP would be.
 */
function isServiceSource(value: string): boolean {
  return /^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/i.test(value) || /^aws internal$/i.test(value);
}

/** S3 data events wrap the user agent in brackets ("[aws-cli/1.18 ...]"); management events don't. */
function userAgentOf(value: unknown): string | undefined {
  const ua = text(value);
  if (ua === undefined) return undefined;
  const m = /^\[(.*)\]$/.exec(ua);
  return m ? text(m[1]) : ua;
}

function convert(record: unknown, opts: CloudTrailOptions = {}): AdapterResult {
  if (!isObj(record)) return skip('unrecognized_record', 'a CloudTrail event is a JSON object');
  const eventName = text(own(record, 'eventName'));
  const identity = own(record, 'userIdentity');
  if (eventName === undefined || !isObj(identity)) return skip('unrecognized_record', 'no eventName or userIdentity');

  const consoleLogin = eventName === 'ConsoleLogin';
  if (!consoleLogin && SIGNIN_STEPS.has(eventName)) {
    return skip('irrelevant_event_type', `${eventName} is a sign-in step, not session activity`);
  }

  const time = parseTime(own(record, 'eventTime') ?? own(record, '@timestamp') ?? own(record, 'p_event_time'), { assumeUtc: true });
  if (!time.ok) return skip(time.skip, time.message);

  const source = text(own(record, 'sourceIPAddress'));
  if (source !== undefined && isServiceSource(source)) {
    return skip('service_source_ip', `source is the AWS service ${source.slice(0, 80)}, not a client address`);
  }
  const ip = parseIp(source);
  if (!ip.ok) return skip(ip.skip, ip.message);

  const accessKey = text(own(identity, 'accessKeyId'));
  const principal = firstText(own(identity, 'arn'), own(identity, 'principalId'), own(identity, 'userName'));
  let session: string | undefined;
  let type: EventType;
  if (consoleLogin) {
    // responseElements.ConsoleLogin is "Success" or "Failure"; errorMessage appears on failures only.
    const result = text(get(record, 'responseElements', 'ConsoleLogin'))?.toLowerCase();
    const failedLogin = result === 'failure' || (result === undefined && own(record, 'errorMessage') !== undefined);
    type = failedLogin ? 'login_failed' : 'login';
    if (accessKey?.startsWith('ASIA')) session = accessKey;
    else if (principal !== undefined) session = `console:${principal}@${time.time}`;
  } else {
    if (accessKey?.startsWith('AKIA')) return skip('long_term_credentials', `${eventName} signed with a long-term access key`);
    if (accessKey?.startsWith('ASIA')) session = accessKey;
    // Any API call made with session credentials is a use of that session, including denied ones.
    type = 'request';
  }
  if (session === undefined) return skip('no_session', `${eventName} carries no temporary access key`);

  return finish(
    {
      id: text(own(record, 'eventID')),
      time: time.time,
      type,
      session_id: session,
      user_id: principal,
      ip: ip.ip,
      user_agent: userAgentOf(own(record, 'userAgent')),
      tenant: firstText(own(record, 'recipientAccountId'), own(identity, 'accountId')),
      app: text(own(record, 'eventSource')),
    },
    opts.defaultTenant,
  );
}

export const cloudtrailAdapter: Adapter<CloudTrailOptions> = {
  name: 'cloudtrail',
  detect: (record) =>
    safeDetect(() => {
      if (!isObj(record)) return false;
      if (own(record, 'p_log_type') === 'AWS.CloudTrail') return true;
      return typeof own(record, 'eventName') === 'string' && typeof own(record, 'eventSource') === 'string' && isObj(own(record, 'userIdentity'));
    }),
  convert: (record, opts) => guard(() => convert(record, opts)),
};

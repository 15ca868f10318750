// Web server access logs: Apache/nginx "combined" (and "common") lines, optionally followed by extra quoted fields.
//
// Neither standard format logs a session, so the session must be configured: either a cookie (logged by adding
// "%{Cookie}i" (Apache) or "$http_cookie" (nginx) after the user agent) or a header/variable logged the same way.
// Lines without a session are skipped as no_session: a replay detector cannot key on IP or user agent, because
// those are what it watches for change.
import type { EventType } from '../schema.js';
import { finish, guard, parseClfTime, parseIp, safeDetect, skip, text } from './common.js';
import type { Adapter, AdapterOptions, AdapterResult } from './types.js';

export interface AccessLogOptions extends AdapterOptions {
  /** Cookie whose value is the session id, looked up in the logged Cookie header. */
  sessionCookie?: string;
  /** Extra field (named in `extraFields`) whose whole value is the session id, e.g. a logged X-Session-Id header. */
  sessionHeader?: string;
  /**
   * Names of the quoted fields that follow the user agent, in order, e.g. `["cookie"]` for
   * `... "%{User-agent}i" "%{Cookie}i"`. Without it, a cookie is searched for in every extra field and a header
   * is read from the only extra field when there is exactly one.
   */
  extraFields?: string[];
  /** Request paths (query ignored) that end the session, e.g. `["/logout"]`. */
  logoutPaths?: string[];
}

export interface AccessLogLine {
  host: string;
  ident: string;
  user: string;
  time: string;
  request: string;
  status: string;
  bytes: string;
  referer?: string;
  userAgent?: string;
  extra: string[];
}

const MAX_LINE = 65_536;

// Quoted fields allow backslash escapes (Apache writes \", nginx writes \x22), which keeps every alternative
// disjoint and the match linear in the line length.
const Q = '"((?:[^"\\\\]|\\\\.)*)"';
// Whatever follows the user agent is captured whole and tokenised separately, so no part of the pattern can
// backtrack over another.
const LINE = new RegExp(`^(\\S+) (\\S+) (\\S+) \\[([^\\]]{1,64})\\] ${Q} (\\d{3}|-) (\\d+|-)(?: ${Q} ${Q})?((?: .*)?)$`);
const EXTRA = new RegExp(`${Q}|(\\S+)`, 'g');

function unescape(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})|\\(.)/g, (_m, hex: string | undefined, ch: string | undefined) =>
    hex !== undefined ? String.fromCharCode(parseInt(hex, 16)) : (ch ?? ''),
  );
}

/** Splits one combined/common line into its fields, or undefined when it is not one. */
export function parseAccessLogLine(line: string): AccessLogLine | undefined {
  if (line.length > MAX_LINE) return undefined;
  const m = LINE.exec(line.replace(/\r?\n$/, ''));
  if (!m) return undefined;
  const extra: string[] = [];
  const tail = m[10] ?? '';
  // A quote right after the byte count with no well-formed referer/agent pair means a truncated or mangled
  // line (an unterminated user agent), not a "common" line with extras.
  if (m[9] === undefined && tail.trimStart().startsWith('"')) return undefined;
  for (const t of tail.matchAll(EXTRA)) extra.push(unescape(t[1] ?? t[2] ?? ''));
  const out: AccessLogLine = {
    host: m[1] ?? '',
    ident: m[2] ?? '',
    user: m[3] ?? '',
    time: m[4] ?? '',
    request: unescape(m[5] ?? ''),
    status: m[6] ?? '',
    bytes: m[7] ?? '',
    extra,
  };
  if (m[8] !== undefined) out.referer = unescape(m[8]);
  if (m[9] !== undefined) out.userAgent = unescape(m[9]);
  return out;
}

function cookieValue(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      return text(value);
    }
  }
  return undefined;
}

function sessionOf(line: AccessLogLine, opts: AccessLogOptions): string | undefined {
  const names = opts.extraFields?.map((n) => n.toLowerCase());
  const field = (name: string): string | undefined => {
    const i = names?.indexOf(name.toLowerCase()) ?? -1;
    return i >= 0 ? line.extra[i] : undefined;
  };
  if (opts.sessionCookie) {
    const cookieField = field('cookie');
    const candidates = cookieField !== undefined ? [cookieField] : names ? [] : line.extra;
    for (const c of candidates) {
      const v = cookieValue(c, opts.sessionCookie);
      if (v !== undefined) return v;
    }
  }
  if (opts.sessionHeader) {
    const v = names ? field(opts.sessionHeader) : line.extra.length === 1 ? line.extra[0] : undefined;
    const t = text(v);
    if (t !== undefined) return t;
  }
  return undefined;
}

function pathOf(request: string): string | undefined {
  const target = request.split(' ')[1];
  return target?.split('?')[0];
}

function convert(record: unknown, opts: AccessLogOptions = {}): AdapterResult {
  if (typeof record !== 'string') return skip('unrecognized_record', 'an access-log record is one text line');
  if (record.length > MAX_LINE) return skip('too_large', `line of ${record.length} characters`);
  const line = parseAccessLogLine(record);
  // The line is not quoted: it may carry the very session cookie we must never echo.
  if (!line) return skip('unparseable_line', `not a combined/common log line (${record.length} characters)`);

  const time = parseClfTime(line.time);
  if (!time.ok) return skip(time.skip, time.message);
  const ip = parseIp(line.host);
  if (!ip.ok) return skip(ip.skip, ip.message);

  const session = sessionOf(line, opts);
  if (session === undefined) {
    const configured = opts.sessionCookie || opts.sessionHeader;
    return skip('no_session', configured ? 'the configured cookie/header is absent from this line' : 'no sessionCookie or sessionHeader configured');
  }

  const path = pathOf(line.request);
  const type: EventType = path !== undefined && (opts.logoutPaths ?? []).includes(path) ? 'logout' : 'request';
  return finish(
    {
      time: time.time,
      type,
      session_id: session,
      user_id: text(line.user),
      ip: ip.ip,
      user_agent: text(line.userAgent),
    },
    opts.defaultTenant,
  );
}

export const accessLogAdapter: Adapter<AccessLogOptions> = {
  name: 'accesslog',
  detect: (record) => safeDetect(() => typeof record === 'string' && parseAccessLogLine(record) !== undefined),
  convert: (record, opts) => guard(() => convert(record, opts)),
};

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { accessLogAdapter, parseAccessLogLine } from '../../../src/events/adapters/accesslog.js';
import { CORPUS, converted, runAll, skipped } from './corpus.js';

const lines = readFileSync(join(CORPUS, 'elastic-examples/apache_logs'), 'utf8')
  .split('\n')
  .filter((l) => l !== '');

describe('accesslog adapter over the elastic/examples Apache combined log', () => {
  it('parses every line but one, and skips them all: the file logs no session', () => {
    expect(lines).toHaveLength(10_000);
    const t = runAll(accessLogAdapter, lines, { sessionCookie: 'SESSIONID' });
    expect(t.converted).toBe(0);
    expect(t.skipped).toEqual({
      no_session: 9_999,
      unparseable_line: 1, // line 8899 ends inside an unterminated user agent
    });
    expect(lines.filter((l) => parseAccessLogLine(l) === undefined)).toEqual([lines[8898]]);
  });

  it('without a configured session source, the reason says so', () => {
    const r = accessLogAdapter.convert(lines[0]);
    expect(r).toMatchObject({ ok: false, skip: 'no_session', message: 'no sessionCookie or sessionHeader configured' });
  });

  it('splits the first line into its combined-format fields', () => {
    expect(parseAccessLogLine(lines[0]!)).toEqual({
      host: '83.149.9.216',
      ident: '-',
      user: '-',
      time: '17/May/2015:10:05:03 +0000',
      request: 'GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1',
      status: '200',
      bytes: '203023',
      referer: 'http://semicomplete.com/presentations/logstash-monitorama-2013/',
      userAgent:
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36',
      extra: [],
    });
  });

  it('every corpus line converts once a session cookie is logged after the user agent', () => {
    const withCookie = lines.map((l, i) => `${l} "theme=dark; SESSIONID=s${i % 50}; lang=en"`);
    const t = runAll(accessLogAdapter, withCookie, { sessionCookie: 'SESSIONID', extraFields: ['cookie'] });
    expect(t.converted).toBe(9_999);
    expect(t.skipped).toEqual({ unparseable_line: 1 });
    expect(converted(t.results[0]!)).toEqual({
      time: '2015-05-17T10:05:03.000Z',
      type: 'request',
      session_id: 's0',
      ip: '83.149.9.216',
      user_agent:
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36',
    });
    // The last line: 46.105.14.53 at 20/May/2015:21:05:15 +0000.
    expect(converted(t.results[9_999]!)).toMatchObject({ ip: '46.105.14.53', time: '2015-05-20T21:05:15.000Z', session_id: 's49' });
  });
});

describe('accesslog options and formats', () => {
  const nginx =
    '2001:db8::7 - alice [10/Oct/2000:13:55:36 -0700] "POST /logout?next=%2F HTTP/1.1" 302 0 "https://app.example/" "Mozilla/5.0 \\"quoted\\"" "sid-123" 0.004';

  it('reads a session from a named header field, applies the zone, marks logout paths', () => {
    const e = converted(accessLogAdapter.convert(nginx, { sessionHeader: 'x-session-id', extraFields: ['x-session-id', 'request_time'], logoutPaths: ['/logout'] }));
    expect(e).toEqual({
      time: '2000-10-10T20:55:36.000Z',
      type: 'logout',
      session_id: 'sid-123',
      user_id: 'alice',
      ip: '2001:db8::7',
      user_agent: 'Mozilla/5.0 "quoted"',
    });
  });

  it('a header without extraFields is read only when it is the sole extra field', () => {
    expect(skipped(accessLogAdapter.convert(nginx, { sessionHeader: 'x-session-id' }))).toBe('no_session');
    const single = nginx.replace(/ 0\.004$/, '');
    expect(converted(accessLogAdapter.convert(single, { sessionHeader: 'x-session-id' })).session_id).toBe('sid-123');
  });

  it('nginx \\x22 escapes are decoded', () => {
    const line = '192.0.2.1 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "A\\x22B" "SID=v1"';
    expect(converted(accessLogAdapter.convert(line, { sessionCookie: 'SID' })).user_agent).toBe('A"B');
  });

  it('common format (no referer/agent) still parses', () => {
    const line = '192.0.2.1 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.0" 200 -';
    expect(parseAccessLogLine(line)).toMatchObject({ host: '192.0.2.1', bytes: '-', extra: [] });
  });

  it('bad hosts, times and lines have their own reasons', () => {
    expect(skipped(accessLogAdapter.convert('host.example - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.0" 200 1 "-" "ua" "SID=1"', { sessionCookie: 'SID' }))).toBe('invalid_ip');
    expect(skipped(accessLogAdapter.convert('192.0.2.1 - - [31/Feb/2024:00:00:00 +0000] "GET / HTTP/1.0" 200 1 "-" "ua" "SID=1"', { sessionCookie: 'SID' }))).toBe('invalid_time');
    expect(skipped(accessLogAdapter.convert('not a log line'))).toBe('unparseable_line');
    expect(skipped(accessLogAdapter.convert('x'.repeat(70_000)))).toBe('too_large');
    expect(skipped(accessLogAdapter.convert({ line: 'x' }))).toBe('unrecognized_record');
  });

  it('parses a pathological line in linear time', () => {
    const evil = '1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "' + '\\"'.repeat(20_000) + ' 200 1 "' + '" "'.repeat(5_000);
    const started = performance.now();
    accessLogAdapter.convert(evil, { sessionCookie: 'SID' });
    expect(performance.now() - started).toBeLessThan(500);
  });
});

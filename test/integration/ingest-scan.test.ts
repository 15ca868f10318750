// `replayguard scan --format auto` over the vendored corpus as real files (JSON array, NDJSON, a pretty-printed
// CloudTrail document, gzip copies made here, stdin): the same verdicts as the adapter tests (test/unit/adapters/),
// through decode → adapter → normalize → pipeline.
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runScan, type ScanOptions, type ScanSummary } from '../../src/cli/scan.js';
import { SessionHasher } from '../../src/events/normalize.js';
import { CORPUS, pantherRows } from '../unit/adapters/corpus.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

const KEY = 'ingest-scan-session-key-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'rg-ingest-scan-'));
const OTRF = join(CORPUS, 'otrf-security-datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json');
const APACHE = join(CORPUS, 'elastic-examples/apache_logs');
const logs = (logType: string) => pantherRows(logType).map((r) => r.log);

function write(name: string, content: string | Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

async function scan(files: string[], opts: Partial<ScanOptions> = {}): Promise<{ summary: ScanSummary; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const { summary } = await runScan({
    files, store: 'memory', failOnIncident: false, format: 'auto', stdout, stderr,
    env: { RG_SESSION_KEY: KEY, RG_LOG_LEVEL: 'silent' }, ...opts,
  });
  return { summary, stdout: stdout.text, stderr: stderr.text };
}

/** The numbers the adapter tests assert for each corpus file (test/unit/adapters/*.test.ts, docs/sources.md). */
const EXPECTED: Record<string, { accepted: Record<string, number>; skipped: Record<string, number> }> = {
  'Okta.SystemLog': {
    accepted: { login: 12, login_failed: 1, request: 33, revoke: 1 },
    skipped: { irrelevant_event_type: 16, no_session: 10, missing_time: 8, invalid_time: 3, unrecognized_record: 2, not_user_activity: 1, service_source_ip: 1 },
  },
  'Auth0.Events': { accepted: { request: 44, login_failed: 1, revoke: 1 }, skipped: { irrelevant_event_type: 9, no_session: 2 } },
  'Azure.Audit': { accepted: { login: 2, refresh: 1 }, skipped: { irrelevant_event_type: 21, no_session: 15, not_user_activity: 9 } },
  'AWS.CloudTrail': { accepted: { login: 21, login_failed: 5, request: 1 }, skipped: { no_session: 5, missing_time: 3, invalid_time: 1, missing_ip: 1 } },
};

const sum = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);

function expectCounts(summary: ScanSummary, expected: { accepted: Record<string, number>; skipped: Record<string, number> }): void {
  expect(summary.accepted_by_type).toEqual(expected.accepted);
  expect(summary.skipped_by_reason).toEqual(expected.skipped);
  expect(summary.events_accepted).toBe(sum(expected.accepted));
  expect(summary.skipped).toBe(sum(expected.skipped));
  expect(summary.rejected).toBe(0);
  expect(summary.events_read).toBe(sum(expected.accepted) + sum(expected.skipped));
}

describe('scan --format auto over the corpus', () => {
  // Each vendor in another framing, so every framing meets real vendor records.
  const files = {
    'Okta.SystemLog': write('okta.json', JSON.stringify(logs('Okta.SystemLog'), null, 2)),
    'Auth0.Events': write('auth0.ndjson', logs('Auth0.Events').map((l) => JSON.stringify(l)).join('\n') + '\n'),
    'Azure.Audit': write('entra.ndjson.gz', gzipSync(logs('Azure.Audit').map((l) => JSON.stringify(l)).join('\n'))),
    'AWS.CloudTrail': write('cloudtrail.json', JSON.stringify({ Records: logs('AWS.CloudTrail') }, null, 2)),
  };

  for (const [logType, file] of Object.entries(files)) {
    it(`${logType} (${file.slice(dir.length + 1)}): the adapter tests' counts`, async () => {
      const { summary } = await scan([file]);
      expectCounts(summary, EXPECTED[logType]!);
    });
  }

  it('gzip copies give the same summary as the plain files, in one multi-file run', async () => {
    const plain = await scan(Object.values(files));
    const gz = Object.entries(files).map(([k, f]) => (f.endsWith('.gz') ? f : write(`${k}.gz`, gzipSync(readFileSync(f)))));
    const zipped = await scan(gz);
    expect(zipped.summary).toEqual(plain.summary);
    expect(zipped.stdout).toBe(plain.stdout);
    expect(plain.summary.events_accepted).toBe(47 + 46 + 3 + 27);
  });

  it('reads gzip from stdin with -', async () => {
    const gz = write('okta-stdin.gz', gzipSync(logs('Okta.SystemLog').map((l) => JSON.stringify(l)).join('\n')));
    const { summary, stderr } = await scan(['-'], { stdin: createReadStream(gz) });
    expectCounts(summary, EXPECTED['Okta.SystemLog']!);
    // One example line per skip reason, naming where it was found.
    expect(stderr).toMatch(/<stdin>:\d+: skipped \(irrelevant_event_type, first of its kind\): /);
    expect(stderr.match(/skipped \(irrelevant_event_type/g)).toHaveLength(1);
  });

  it('malformed records are counted per record and never stop the file', async () => {
    const lines = logs('Auth0.Events').map((l) => JSON.stringify(l));
    lines.splice(10, 0, '{"type": "s", "date": ', '[1, 2', '{"type": 42, "date": [], "log_id": {}}');
    const file = write('auth0-damaged.ndjson', lines.join('\n'));
    const { summary, stderr } = await scan([file]);
    expect(summary.events_accepted).toBe(46);
    expect(summary.rejected_by_reason).toEqual({ invalid_json: 2 });
    expect(summary.skipped_by_reason).toEqual({ irrelevant_event_type: 9, no_session: 2, unrecognized_record: 1 });
    expect(stderr).toContain('auth0-damaged.ndjson:11: rejected (invalid_json)');
    expect(stderr).toContain('auth0-damaged.ndjson:12: rejected (invalid_json)');
  });
});

describe('scan: the OTRF CloudTrail recording (stolen EC2 instance-profile credentials)', () => {
  it('reads every record: 98 requests, the 5 service-issued AssumeRole calls skipped', async () => {
    const { summary } = await scan([OTRF]);
    expect(summary).toMatchObject({
      events_read: 103, events_accepted: 98, rejected: 0, skipped: 5,
      skipped_by_reason: { service_source_ip: 5 }, accepted_by_type: { request: 98 }, accepted_by_format: { cloudtrail: 98 },
    });
  });

  it('the rest of the recording is quiet: no incident on any other session (the console session uses two AWS front ends)', async () => {
    const { stdout } = await scan([OTRF]);
    const stolen = new SessionHasher(KEY).hash('123456789123', 'ASIA5FLZVX4OPVKKVBMX');
    const incidents = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { session: string; rule: { id: string } });
    expect(incidents.filter((i) => i.session !== stolen).map((i) => i.rule.id)).toEqual([]);
  });

  // Every address in the recording is anonymised to 1.2.3.4, so the stolen session (ASIA5FLZVX4OPVKKVBMX, 11
  // aws-cli calls from a laptop) differs from legitimate use only by its client: the instance's role session used
  // by aws-cli on macOS (rule cloud-instance-credentials-off-instance).
  it('detects the stolen role session used with a different client, and only that', async () => {
    const { stdout } = await scan([OTRF]);
    const stolen = new SessionHasher(KEY).hash('123456789123', 'ASIA5FLZVX4OPVKKVBMX');
    const incidents = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { session: string; rule: { id: string }; count: number });
    expect(incidents.map((i) => [i.rule.id, i.session === stolen])).toEqual([['cloud-instance-credentials-off-instance', true]]);
    expect(incidents[0]!.count).toBe(11);
  });
});

describe('scan: access logs', () => {
  it('auto: every parseable line is an access log without a session; the mangled one is unrecognised', async () => {
    const { summary, stderr } = await scan([APACHE]);
    expect(summary.skipped_by_reason).toEqual({ no_session: 9_999, unrecognized_record: 1 });
    expect(stderr).toContain('skipped (no_session, first of its kind): no sessionCookie or sessionHeader configured');
  });

  it('--format accesslog with --session-cookie, through the installed command, gzip input, no progress line off a terminal', () => {
    // Lines 8001..9000 hold the one mangled line (8899).
    const lines = readFileSync(APACHE, 'utf8').split('\n').filter(Boolean).slice(8000, 9000).map((l, i) => `${l} "theme=dark; SID=s${i % 50}"`);
    const file = write('access.log.gz', gzipSync(lines.join('\n') + '\n'));
    const r = spawnSync('node', [join(process.cwd(), 'bin/replayguard.js'), 'scan', '--format', 'accesslog', '--session-cookie', 'SID', '--tenant', 'web', file], {
      env: { PATH: process.env.PATH ?? '', RG_SESSION_KEY: 'ingest-scan-session-key-0123456789abcdef' },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(/replayguard scan: (\{.*\})/.exec(r.stderr)![1]!) as ScanSummary;
    expect(summary).toMatchObject({ events_read: 1_000, events_accepted: 999, skipped_by_reason: { unparseable_line: 1 } });
    expect(r.stderr).toContain('access.log.gz:899: skipped (unparseable_line, first of its kind)');
    expect(r.stderr).not.toContain('\r');
    expect(r.stderr).not.toContain('events/s');
  });

  it('an unknown --format is a usage error naming the formats', () => {
    const r = spawnSync('node', [join(process.cwd(), 'bin/replayguard.js'), 'scan', '--format', 'splunk', APACHE], { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--format must be one of canonical, okta, auth0, entra, cloudtrail, ecs, accesslog, auto');
  });

  it('shows a progress line (events/s, incidents so far) when asked, as on a terminal', async () => {
    const lines = readFileSync(APACHE, 'utf8').split('\n').filter(Boolean).slice(0, 1000).map((l, i) => `${l} "SID=s${i}"`);
    const file = write('access-progress.log', lines.join('\n'));
    const stderr = new Capture();
    const { summary } = await runScan({
      files: [file, file], store: 'memory', failOnIncident: false, format: 'accesslog', adapterOptions: { sessionCookie: 'SID' },
      progress: true, batchSize: 100, stderr, stdout: new Capture(), env: { RG_LOG_LEVEL: 'silent' },
    });
    expect(summary.events_accepted).toBe(2 * 1000);
    expect(stderr.text).toMatch(/\r\x1b\[Kreplayguard scan: \d+ records, \d+ events \(\d+ events\/s\), \d+ incidents so far/);
    expect(stderr.text).toMatch(/\r\x1b\[K\n?replayguard scan: \{/);
  });
});

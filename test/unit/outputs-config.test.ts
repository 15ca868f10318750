import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  SinkConfigError,
  loadSinksFile,
  loadSinksFromEnv,
  parseSinksText,
  sinkAccepts,
  type HecSinkConfig,
  type SinkConfigIssue,
} from '../../src/outputs/config.js';
import type { Incident } from '../../src/incidents/model.js';

const ENV = { SPLUNK_HEC_TOKEN: 'CF179AE4-3C99-45F5-A7CC-3284AA91CF67', ES_PASSWORD: 'pw-from-env', HOOK_TOKEN: 'hook-secret' };
const ctx = { env: ENV, baseDir: '/srv/rg', hostname: 'detector01' };

const GOOD = `# high and above to HEC as ECS, everything to a file as OCSF
format_options:
  producer: { vendor: Acme, product: replayguard, version: "1.2" }
sinks:
  - name: splunk
    type: http_hec
    url: https://splunk.example.com:8088
    token_env: SPLUNK_HEC_TOKEN
    format: ecs
    filter:
      min_severity: high
      rules: { exclude: [test-*] }
  - name: archive
    type: file
    path: out/incidents.ocsf.jsonl
    format: ocsf
    rotate: { max_bytes: 1048576, keep: 3 }
  - name: elastic
    type: http_bulk
    url: https://es.example.com:9200/
    auth: { type: basic, username: elastic, password_env: ES_PASSWORD }
  - name: hook
    type: http_json
    url: https://hooks.example.com/rg
    auth: { type: bearer, token_env: HOOK_TOKEN }
    headers: { X-Team: secops }
  - name: siem-syslog
    type: syslog
    transport: udp
    host: 192.0.2.10
    format: cef
  - name: console
    type: stdout
    enabled: false
`;

function issuesOf(text: string, env: NodeJS.ProcessEnv = ENV): SinkConfigIssue[] {
  try {
    parseSinksText(text, 'sinks.yaml', { ...ctx, env });
  } catch (err) {
    if (err instanceof SinkConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a SinkConfigError');
}

const incident = (over: Partial<Incident> = {}): Incident => ({ rule: { id: 'session-multi-country', title: 't', version: 1 }, severity: 'high', ...over }) as Incident;

describe('sinks config file', () => {
  it('resolves every sink type with defaults, env secrets and paths', () => {
    const cfg = parseSinksText(GOOD, 'sinks.yaml', ctx);
    expect(cfg.sinks.map((s) => s.name)).toEqual(['splunk', 'archive', 'elastic', 'hook', 'siem-syslog']);
    const [hec, file, bulk, hook, syslog] = cfg.sinks;
    expect(hec).toMatchObject({ type: 'http_hec', url: 'https://splunk.example.com:8088/services/collector/event', format: 'ecs', filter: { minSeverity: 'high' } });
    expect((hec as HecSinkConfig).token.reveal()).toBe(ENV.SPLUNK_HEC_TOKEN);
    expect((hec as HecSinkConfig).channel).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    expect(hec!.formatOptions).toMatchObject({ hostname: 'detector01', producer: { vendor: 'Acme', version: '1.2' } });
    expect(file).toMatchObject({ type: 'file', path: '/srv/rg/out/incidents.ocsf.jsonl', maxBytes: 1048576, keep: 3, format: 'ocsf' });
    expect(bulk).toMatchObject({ type: 'http_bulk', url: 'https://es.example.com:9200/_bulk', format: 'bulk' });
    expect(bulk?.type === 'http_bulk' && bulk.authorization?.reveal()).toBe('Basic ' + Buffer.from('elastic:pw-from-env').toString('base64'));
    expect(hook).toMatchObject({ type: 'http_json', method: 'POST', headers: { 'X-Team': 'secops' }, format: 'jsonl', batch: { maxEvents: 1 } });
    expect(syslog).toMatchObject({ type: 'syslog', transport: 'udp', port: 514, maxBytes: 2048, wrapper: 'rfc5424', format: 'cef' });
    expect(hec!.retry).toEqual({ attempts: 10, baseDelayMs: 1000, maxDelayMs: 300_000 });
  });

  it('never lets a secret out through JSON, inspect or a log line', () => {
    const cfg = parseSinksText(GOOD, 'sinks.yaml', ctx);
    const dumped = JSON.stringify(cfg) + inspect(cfg, { depth: 10 });
    expect(dumped).not.toContain(ENV.SPLUNK_HEC_TOKEN);
    expect(dumped).not.toContain(ENV.ES_PASSWORD);
    expect(dumped).not.toContain(Buffer.from('elastic:pw-from-env').toString('base64'));
    expect(dumped).toContain('[secret from $SPLUNK_HEC_TOKEN]');
  });

  it('reads the same config from JSON', () => {
    const text = JSON.stringify({ sinks: [{ name: 'splunk', type: 'http_hec', url: 'http://127.0.0.1:8088', token_env: 'SPLUNK_HEC_TOKEN' }] }, null, 2);
    expect(parseSinksText(text, 'sinks.json', ctx).sinks[0]).toMatchObject({ name: 'splunk', format: 'hec' });
    const bad = JSON.stringify({ sinks: [{ name: 'splunk', type: 'http_hec', url: 'http://127.0.0.1:8088', token: 'abc' }] }, null, 2);
    expect(issuesOf(bad)).toContainEqual(expect.objectContaining({ path: 'sinks.0.token', line: 7 }));
  });

  it('refuses a literal token with a clear message, the field path and its line', () => {
    const text = GOOD.replace('token_env: SPLUNK_HEC_TOKEN', 'token: CF179AE4-3C99-45F5-A7CC-3284AA91CF67');
    const issues = issuesOf(text);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ file: 'sinks.yaml', line: 8, path: 'sinks.0.token' });
    expect(issues[0]!.message).toMatch(/literal secrets are not allowed.*token_env: NAME_OF_AN_ENV_VAR/);
    expect(new SinkConfigError(issues).message).toContain('sinks.yaml:8:5: sinks.0.token: literal secrets are not allowed');
  });

  it('refuses literal passwords, credential headers and credentials in URLs', () => {
    const pw = issuesOf(GOOD.replace('password_env: ES_PASSWORD', 'password: hunter2'));
    expect(pw).toContainEqual(expect.objectContaining({ path: 'sinks.2.auth.password', message: expect.stringContaining('password_env') }));
    const header = issuesOf(GOOD.replace('X-Team: secops', 'Authorization: Bearer abc'));
    expect(header).toContainEqual(expect.objectContaining({ path: 'sinks.3.headers.Authorization', line: 26, message: expect.stringContaining('literal headers') }));
    const url = issuesOf(GOOD.replace('https://hooks.example.com/rg', 'https://user:pass@hooks.example.com/rg'));
    expect(url).toContainEqual(expect.objectContaining({ path: 'sinks.3.url', message: expect.stringContaining('credentials in the URL') }));
    const query = issuesOf(GOOD.replace('https://hooks.example.com/rg', 'https://hooks.example.com/rg?token=abc'));
    expect(query).toContainEqual(expect.objectContaining({ path: 'sinks.3.url' }));
  });

  it('names the environment variable that is not set', () => {
    const issues = issuesOf(GOOD, { ...ENV, SPLUNK_HEC_TOKEN: '' });
    expect(issues).toEqual([expect.objectContaining({ path: 'sinks.0.token_env', line: 8, message: expect.stringContaining('SPLUNK_HEC_TOKEN is not set') })]);
  });

  it('suggests the nearest key for a misspelt one, at its line', () => {
    const issues = issuesOf(GOOD.replace('min_severity: high', 'min_severty: high'));
    expect(issues).toContainEqual(expect.objectContaining({ path: 'sinks.0.filter.min_severty', line: 11, message: 'unknown key (did you mean "min_severity"?)' }));
    const top = issuesOf(GOOD.replace('rotate: {', 'rotat: {'));
    expect(top).toContainEqual(expect.objectContaining({ path: 'sinks.1.rotat', message: expect.stringContaining('"rotate"') }));
  });

  it('reports bad values with their path: type, severity, format for the type, facility, delimiter', () => {
    expect(issuesOf(GOOD.replace('type: stdout', 'type: kafka'))).toContainEqual(expect.objectContaining({ path: 'sinks.5.type', message: expect.stringContaining('file, stdout, http_hec') }));
    expect(issuesOf(GOOD.replace('min_severity: high', 'min_severity: urgent'))).toContainEqual(expect.objectContaining({ path: 'sinks.0.filter.min_severity', line: 11 }));
    expect(issuesOf(GOOD.replace("type: http_bulk\n", 'type: http_bulk\n    format: cef\n'))).toContainEqual(
      expect.objectContaining({ path: 'sinks.2.format', message: 'a http_bulk sink carries bulk; not cef' }),
    );
    const delim = issuesOf(GOOD.replace('    format: cef\n', '    format: leef2\n    format_options: { leef: { delimiter: "=" } }\n'));
    expect(delim).toContainEqual(expect.objectContaining({ path: 'sinks.4.format_options.leef.delimiter', message: expect.stringContaining('ambiguous') }));
    const pen = issuesOf(GOOD.replace('format_options:\n', 'format_options:\n  syslog: { facility: local9 }\n'));
    expect(pen[0]).toMatchObject({ path: 'format_options.syslog.facility', line: 3 });
  });

  it('checks cross-field rules: duplicate names, TLS on a non-TLS transport, UDP-only caps', () => {
    expect(issuesOf(GOOD.replace('name: archive', 'name: splunk'))).toContainEqual(expect.objectContaining({ path: 'sinks.1.name', message: expect.stringContaining('duplicate sink name "splunk"') }));
    const tls = issuesOf(GOOD.replace('    transport: udp\n', '    transport: tcp\n    tls: { reject_unauthorized: false }\n'));
    expect(tls).toContainEqual(expect.objectContaining({ path: 'sinks.4.tls', message: expect.stringContaining('transport: tls') }));
    const cap = issuesOf(GOOD.replace('    transport: udp\n', '    transport: tcp\n    max_bytes: 1024\n'));
    expect(cap).toContainEqual(expect.objectContaining({ path: 'sinks.4.max_bytes' }));
    const ca = issuesOf(GOOD.replace('    transport: udp\n', '    transport: tls\n    tls: { ca_file: no-such-ca.pem }\n'));
    expect(ca).toContainEqual(expect.objectContaining({ path: 'sinks.4.tls.ca_file', message: expect.stringContaining('/srv/rg/no-such-ca.pem') }));
  });

  it('gives the syslog formatter the UDP cap so it can fit records itself', () => {
    const text = 'sinks:\n  - { name: s, type: syslog, transport: udp, host: 127.0.0.1, max_bytes: 1180 }\n';
    const [s] = parseSinksText(text, 'x.yaml', ctx).sinks;
    expect(s!.formatOptions.syslog?.maxBytes).toBe(1180);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(issuesOf('sinks:\n  - name: a\n    type: [file\n')).toEqual([expect.objectContaining({ path: '', message: expect.stringMatching(/^YAML:/) })]);
  });

  it('loads from a file, resolving relative paths against its folder; no RG_SINKS_FILE means no sinks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-sinks-'));
    const file = join(dir, 'sinks.yaml');
    writeFileSync(file, 'sinks:\n  - { name: f, type: file, path: incidents.jsonl }\n');
    const cfg = await loadSinksFile(file, {});
    expect(cfg.sinks[0]).toMatchObject({ path: join(dir, 'incidents.jsonl') });
    expect((await loadSinksFromEnv({})).sinks).toEqual([]);
    expect((await loadSinksFromEnv({ RG_SINKS_FILE: file })).sinks).toHaveLength(1);
    await expect(loadSinksFile(join(dir, 'missing.yaml'), {})).rejects.toThrow(/cannot read the sinks file: ENOENT/);
  });

  it('filters by severity, rule include/exclude patterns and change kind', () => {
    const text = `sinks:
  - name: a
    type: stdout
    filter: { min_severity: medium, rules: { include: [session-*], exclude: [session-noisy] }, changes: [created] }
`;
    const [s] = parseSinksText(text, 'x.yaml', ctx).sinks;
    const f = s!.filter;
    expect(sinkAccepts(f, incident(), 'created')).toBe(true);
    expect(sinkAccepts(f, incident(), 'updated')).toBe(false);
    expect(sinkAccepts(f, incident({ severity: 'low' }), 'created')).toBe(false);
    expect(sinkAccepts(f, incident({ rule: { id: 'token-reuse', title: '', version: 1 } }), 'created')).toBe(false);
    expect(sinkAccepts(f, incident({ rule: { id: 'session-noisy', title: '', version: 1 } }), 'created')).toBe(false);
  });
});

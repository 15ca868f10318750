import { describe, expect, it } from 'vitest';
import { SessionHasher } from '../../../src/events/normalize.js';
import { RecordConverter } from '../../../src/ingest/convert.js';
import { decodeText } from '../../../src/ingest/decode.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { pantherLog, pantherRows } from '../adapters/corpus.js';

const hasher = new SessionHasher('convert-test-key-0123456789abcdef');
const canonical = { id: 'c-1', time: '2026-11-23T09:00:00Z', type: 'revoke', session_id: 'raw-1', ip: '203.0.113.7', signals: ['token_reuse'] };

async function metricText(m: Metrics): Promise<string> {
  return m.registry.metrics();
}

describe('RecordConverter', () => {
  it('canonical records go straight to normalize, keeping every canonical field (signals too)', () => {
    const c = new RecordConverter({ format: 'canonical', hasher });
    const out = c.convert({ index: 0, value: canonical });
    expect(out).toMatchObject({ ok: true, format: 'canonical', event: { id: 'c-1', type: 'revoke', signals: ['token_reuse'], tenant: 'default' } });
    if (out.ok) expect(out.event.session).toBe(hasher.hash('default', 'raw-1'));
  });

  it('a default tenant fills in only where the record names none', () => {
    const c = new RecordConverter({ format: 'auto', hasher, adapterOptions: { defaultTenant: 'acme' } });
    expect(c.convert({ index: 0, value: canonical })).toMatchObject({ ok: true, event: { tenant: 'acme' } });
    expect(c.convert({ index: 1, value: { ...canonical, tenant: 'other' } })).toMatchObject({ ok: true, event: { tenant: 'other' } });
  });

  it('auto recognises each record; vendor signals survive to the normalized event', () => {
    const rows = pantherRows('Okta.SystemLog');
    const c = new RecordConverter({ format: 'auto', hasher });
    const out = c.convert({ index: 3, line: 4, value: pantherLog(rows, 'Okta.Refresh.Access.Token.Reuse', 'Reuse Event') });
    expect(out).toMatchObject({ ok: true, index: 3, line: 4, format: 'okta', event: { type: 'revoke', signals: ['token_reuse'] } });
  });

  it('every failure has a stage, a code and a message, and is counted by the right metric', async () => {
    const metrics = new Metrics();
    const c = new RecordConverter({ format: 'auto', hasher, metrics });
    const records = decodeText('{"bad"\n{"hello":"world"}\n{"time":"2026-11-23T09:00:00Z","type":"request","session_id":"s","ip":"999.1.1.1"}\n{"eventType":"system.org.rate_limit.warning","published":"2024-01-01T00:00:00Z"}\n', { format: 'auto' });
    const outs = records.map((r) => c.convert(r));
    expect(outs.map((o) => (o.ok ? 'ok' : `${o.stage}:${o.format}:${o.code}`))).toEqual([
      'decode:auto:invalid_json',
      'adapter:auto:unrecognized_record',
      'schema:canonical:invalid_ip',
      'adapter:okta:irrelevant_event_type',
    ]);
    for (const o of outs) if (!o.ok) expect(o.message.length).toBeGreaterThan(0);
    const text = await metricText(metrics);
    expect(text).toMatch(/rg_events_rejected_total\{reason="invalid_json"\} 1/);
    expect(text).toMatch(/rg_events_rejected_total\{reason="invalid_ip"\} 1/);
    expect(text).toMatch(/rg_records_skipped_total\{format="auto",reason="unrecognized_record"\} 1/);
    expect(text).toMatch(/rg_records_skipped_total\{format="okta",reason="irrelevant_event_type"\} 1/);
  });

  it('access-log lines take their session options', () => {
    const line = '203.0.113.9 - bob [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" 200 5 "-" "curl/8.0" "sid=abc; x=1"';
    const without = new RecordConverter({ format: 'accesslog', hasher }).convert({ index: 0, value: line });
    expect(without).toMatchObject({ ok: false, stage: 'adapter', code: 'no_session' });
    const withCookie = new RecordConverter({ format: 'accesslog', hasher, adapterOptions: { sessionCookie: 'sid' } }).convert({ index: 0, value: line });
    expect(withCookie).toMatchObject({ ok: true, event: { user: 'bob', ip: '203.0.113.9', session: hasher.hash('default', 'abc') } });
  });
});

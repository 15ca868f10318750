// The corpus has no ECS documents (Elastic's integration fixtures are Elastic License 2.0, see docs/sources.md),
// so these documents are written here in the shapes Filebeat/Elastic Agent and Elasticsearch hits produce.
import { describe, expect, it } from 'vitest';
import { DEFAULT_ECS_SESSION_FIELD, ecsAdapter } from '../../../src/events/adapters/ecs.js';
import { converted, skipped } from './corpus.js';

const doc = {
  '@timestamp': '2024-04-02T19:17:37.621Z',
  ecs: { version: '8.11.0' },
  event: { id: 'evt-1', category: ['authentication', 'session'], type: ['start'], outcome: 'success', action: 'user.session.start' },
  source: { ip: '99.108.5.25', as: { number: 7018, organization: { name: 'AT&T' } }, geo: { country_iso_code: 'us' } },
  user: { name: 'casey.hill@hey.com', id: '00ubewfku1EX0WCFk697' },
  user_agent: { original: 'Mozilla/5.0 (Macintosh)' },
  session: { id: 'sess-42' },
  organization: { id: 'acme' },
  device: { id: 'dev-1' },
  service: { name: 'portal' },
};

describe('ecs adapter', () => {
  it('documents the default session field', () => {
    expect(DEFAULT_ECS_SESSION_FIELD).toBe('session.id');
  });

  it('maps a nested document field by field', () => {
    expect(converted(ecsAdapter.convert(doc))).toEqual({
      id: 'evt-1',
      time: '2024-04-02T19:17:37.621Z',
      type: 'login',
      session_id: 'sess-42',
      user_id: 'casey.hill@hey.com',
      ip: '99.108.5.25',
      user_agent: 'Mozilla/5.0 (Macintosh)',
      tenant: 'acme',
      device_id: 'dev-1',
      app: 'portal',
      asn: 7018,
      country: 'US',
    });
  });

  it('reads flattened keys and a configured session field', () => {
    const flat = {
      '@timestamp': 1_712_085_457_621,
      'source.ip': '2001:db8::1',
      'user.name': 'bob',
      'user_agent.original': 'curl/8.0',
      'okta.authentication_context.external_session_id': '102xyz',
      'event.category': 'web',
    };
    const e = converted(ecsAdapter.convert(flat, { sessionField: 'okta.authentication_context.external_session_id' }));
    expect(e).toEqual({ time: '2024-04-02T19:17:37.621Z', type: 'request', session_id: '102xyz', user_id: 'bob', ip: '2001:db8::1', user_agent: 'curl/8.0' });
    expect(skipped(ecsAdapter.convert(flat))).toBe('no_session');
  });

  it('unwraps an Elasticsearch hit and uses _id when event.id is absent', () => {
    const { event: _ignored, ...rest } = doc;
    const hit = { _index: 'logs-web', _id: 'AbCdEf', _source: { ...rest, event: { category: 'authentication', outcome: 'failure' } } };
    expect(converted(ecsAdapter.convert(hit))).toMatchObject({ id: 'AbCdEf', type: 'login_failed' });
  });

  it('derives logout from event.type end', () => {
    expect(converted(ecsAdapter.convert({ ...doc, event: { category: 'session', type: 'end' } })).type).toBe('logout');
  });

  it('client.ip stands in for source.ip; a document without either is missing_ip', () => {
    const { source: _s, ...noSource } = doc;
    expect(converted(ecsAdapter.convert({ ...noSource, client: { ip: '192.0.2.1' } })).ip).toBe('192.0.2.1');
    expect(skipped(ecsAdapter.convert(noSource))).toBe('missing_ip');
  });

  it('a zone-less @timestamp is UTC (ECS stores UTC); garbage is invalid_time', () => {
    expect(converted(ecsAdapter.convert({ ...doc, '@timestamp': '2024-04-02 19:17:37' })).time).toBe('2024-04-02T19:17:37.000Z');
    expect(skipped(ecsAdapter.convert({ ...doc, '@timestamp': 'yesterday' }))).toBe('invalid_time');
  });
});

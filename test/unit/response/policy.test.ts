import { describe, expect, it } from 'vitest';
import { decide, policySchema } from '../../../src/response/policy.js';

const incident = { action: 'revoke:enforce' as const, severity: 'high' as const, tenant: 'acme', monitor: false };
const yes = async () => true;
const no = async () => false;

describe('revocation policy', () => {
  it('enforces only when rule, global mode and tenant all allow it', async () => {
    const enforce = policySchema.parse({ mode: 'enforce' });
    expect((await decide(incident, enforce, yes)).kind).toBe('enforce');
    expect((await decide({ ...incident, action: 'revoke:shadow' }, enforce, yes)).kind).toBe('shadow');
    expect((await decide({ ...incident, action: 'alert' }, enforce, yes)).kind).toBe('none');
    expect((await decide(incident, policySchema.parse({}), yes)).kind).toBe('shadow'); // default global mode
    expect((await decide(incident, policySchema.parse({ mode: 'enforce', tenants: { acme: { mode: 'shadow' } } }), yes)).kind).toBe('shadow');
    // A tenant cannot loosen the global ceiling.
    expect((await decide(incident, policySchema.parse({ mode: 'shadow', tenants: { acme: { mode: 'enforce' } } }), yes)).kind).toBe('shadow');
  });

  it('respects severity thresholds, monitor mode and the kill switch', async () => {
    const enforce = policySchema.parse({ mode: 'enforce', tenants: { lab: { min_severity: 'critical' } } });
    expect(await decide({ ...incident, severity: 'medium' }, enforce, yes)).toMatchObject({ kind: 'none', why: expect.stringContaining('below high') });
    expect((await decide({ ...incident, tenant: 'lab' }, enforce, yes)).kind).toBe('none');
    expect((await decide({ ...incident, monitor: true }, enforce, yes)).kind).toBe('none');
    expect(await decide(incident, enforce, yes, true)).toMatchObject({ kind: 'none', why: expect.stringContaining('kill switch') });
  });

  it('holds enforcement for a human past the rate limit, without spending budget on shadow decisions', async () => {
    const enforce = policySchema.parse({ mode: 'enforce', rate_limit: { max: 5, per: '1h' } });
    expect(await decide(incident, enforce, no)).toMatchObject({ kind: 'held', why: expect.stringContaining('5 per 60 min') });
    let asked = 0;
    await decide({ ...incident, action: 'revoke:shadow' }, enforce, async () => { asked++; return true; });
    expect(asked).toBe(0);
  });
});

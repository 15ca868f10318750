// Rule exceptions: allowlisted networks, ASNs, users, tenants, countries, user agents or lists, each with a
// reason, an owner and an expiry. Expired exceptions stop applying on their own.
import type { EnrichedEvent } from '../events/schema.js';
import { CidrSet, type NetworkLists } from './lists.js';
import type { RuleException } from './schema.js';

export type CompiledException = { test: (e: EnrichedEvent, lists: NetworkLists, now: number) => boolean; source: RuleException };

const asList = <T>(v: T | T[] | undefined): T[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

export function compileException(x: RuleException): CompiledException {
  const cidrs = asList(x.cidr);
  const set = cidrs ? new CidrSet(cidrs) : undefined;
  const asns = asList(x.asn);
  const users = asList(x.user);
  const tenants = asList(x.tenant);
  const countries = asList(x.country)?.map((c) => c.toUpperCase());
  const ua = x.user_agent?.toLowerCase();
  return {
    source: x,
    test(e, lists, now) {
      if (x.expires !== undefined && x.expires < now) return false;
      if (set && !set.has(e.ip)) return false;
      if (asns && !(e.as && asns.includes(e.as.number))) return false;
      if (users && !(e.user !== undefined && users.includes(e.user))) return false;
      if (tenants && !tenants.includes(e.tenant)) return false;
      if (countries && !(e.geo.country && countries.includes(e.geo.country))) return false;
      if (ua !== undefined && !(e.user_agent ?? '').toLowerCase().includes(ua)) return false;
      if (x.list !== undefined && !lists.contains(x.list, e.ip, e.as?.number)) return false;
      return true;
    },
  };
}

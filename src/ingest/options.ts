// Command-line flags for input formats and adapter options, shared by `scan` and `tail` so both read a log alike.
import type { AnyAdapterOptions } from '../events/adapters/index.js';
import { INPUT_FORMATS, isInputFormat, type InputFormat } from './decode.js';

/** parseArgs option definitions (node:util) */
export const INPUT_FLAGS = {
  format: { type: 'string' },
  tenant: { type: 'string' },
  'session-cookie': { type: 'string' },
  'session-header': { type: 'string' },
  'session-field': { type: 'string' },
  'extra-fields': { type: 'string' },
  'logout-path': { type: 'string', multiple: true },
  'okta-session': { type: 'string' },
} as const;

export const INPUT_FLAGS_USAGE = `      --format NAME        canonical (default), okta, auth0, entra, cloudtrail, ecs, accesslog, or auto (per record)
      --tenant NAME        tenant for records that name none
      --session-cookie N   access logs: the cookie holding the session (logged Cookie header after the user agent)
      --session-header N   access logs: the logged field holding the session id
      --extra-fields A,B   access logs: names of the quoted fields after the user agent, in order
      --logout-path PATH   access logs: a request path that ends the session (repeatable)
      --session-field F    ECS: dotted field holding the session id (default session.id)
      --okta-session MODE  Okta: auto (default), externalSessionId or dtHash`;

export interface InputFlagValues {
  format?: string | undefined;
  tenant?: string | undefined;
  'session-cookie'?: string | undefined;
  'session-header'?: string | undefined;
  'session-field'?: string | undefined;
  'extra-fields'?: string | undefined;
  'logout-path'?: string[] | undefined;
  'okta-session'?: string | undefined;
}

export class UsageError extends Error {}

export function formatFromFlag(value: string | undefined, fallback: InputFormat = 'canonical'): InputFormat {
  if (value === undefined) return fallback;
  if (!isInputFormat(value)) throw new UsageError(`--format must be one of ${INPUT_FORMATS.join(', ')}`);
  return value;
}

export function adapterOptionsFromFlags(v: InputFlagValues): AnyAdapterOptions {
  const opts: AnyAdapterOptions = {};
  if (v.tenant !== undefined) opts.defaultTenant = v.tenant;
  if (v['session-cookie'] !== undefined) opts.sessionCookie = v['session-cookie'];
  if (v['session-header'] !== undefined) opts.sessionHeader = v['session-header'];
  if (v['session-field'] !== undefined) opts.sessionField = v['session-field'];
  if (v['extra-fields'] !== undefined) opts.extraFields = v['extra-fields'].split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (v['logout-path'] !== undefined && v['logout-path'].length > 0) opts.logoutPaths = v['logout-path'];
  const okta = v['okta-session'];
  if (okta !== undefined) {
    if (okta !== 'auto' && okta !== 'externalSessionId' && okta !== 'dtHash') throw new UsageError('--okta-session must be auto, externalSessionId or dtHash');
    opts.session = okta;
  }
  return opts;
}

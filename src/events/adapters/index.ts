// Registry of input formats, `--format auto` detection, and the envelopes vendors wrap batches in.
import { accessLogAdapter, type AccessLogOptions } from './accesslog.js';
import { auth0Adapter, type Auth0Options } from './auth0.js';
import { canonicalAdapter } from './canonical.js';
import { cloudtrailAdapter, type CloudTrailOptions } from './cloudtrail.js';
import { guard, isObj, own, skip } from './common.js';
import { ecsAdapter, type EcsOptions } from './ecs.js';
import { entraAdapter, type EntraOptions } from './entra.js';
import { oktaAdapter, type OktaOptions } from './okta.js';
import type { Adapter, AdapterName, AdapterOptions, AdapterResult } from './types.js';

export * from './types.js';
export type { AccessLogOptions, Auth0Options, CloudTrailOptions, EcsOptions, EntraOptions, OktaOptions };
export { DEFAULT_ECS_SESSION_FIELD } from './ecs.js';
export { parseAccessLogLine } from './accesslog.js';

export interface AdapterOptionsByName {
  canonical: AdapterOptions;
  okta: OktaOptions;
  auth0: Auth0Options;
  entra: EntraOptions;
  cloudtrail: CloudTrailOptions;
  ecs: EcsOptions;
  accesslog: AccessLogOptions;
}

/** Options for `auto`, where any adapter may end up reading them. */
export type AnyAdapterOptions = OktaOptions & Auth0Options & EntraOptions & CloudTrailOptions & EcsOptions & AccessLogOptions;

export const adapters: { readonly [K in AdapterName]: Adapter<AdapterOptionsByName[K]> } = {
  canonical: canonicalAdapter,
  okta: oktaAdapter,
  auth0: auth0Adapter,
  entra: entraAdapter,
  cloudtrail: cloudtrailAdapter,
  ecs: ecsAdapter,
  accesslog: accessLogAdapter,
};

export const ADAPTER_NAMES = Object.keys(adapters) as AdapterName[];

export function isAdapterName(name: string): name is AdapterName {
  return (ADAPTER_NAMES as string[]).includes(name);
}

export function getAdapter(name: string): Adapter | undefined {
  return isAdapterName(name) ? adapters[name] : undefined;
}

/** Panther's data-lake exports declare their log type; trust it before guessing from shape. */
const PANTHER_LOG_TYPES: Readonly<Record<string, AdapterName>> = {
  'Okta.SystemLog': 'okta',
  'Auth0.Events': 'auth0',
  'Azure.Audit': 'entra',
  'AWS.CloudTrail': 'cloudtrail',
};

/**
 * Most specific first: the canonical form and vendor shapes have distinctive fields, while ECS is recognised
 * only by generic ones (`@timestamp`, `source.ip`) that a Logstash-shipped vendor record can also carry.
 */
const DETECTION_ORDER: readonly AdapterName[] = ['canonical', 'accesslog', 'okta', 'auth0', 'entra', 'cloudtrail', 'ecs'];

/** Never throws: a record that cannot even be inspected (a hostile Proxy) is of no known format. */
export function detectFormat(record: unknown): AdapterName | undefined {
  try {
    if (isObj(record)) {
      const declared = own(record, 'p_log_type');
      if (typeof declared === 'string' && Object.prototype.hasOwnProperty.call(PANTHER_LOG_TYPES, declared)) {
        return PANTHER_LOG_TYPES[declared];
      }
    }
    return DETECTION_ORDER.find((name) => adapters[name].detect(record));
  } catch {
    return undefined;
  }
}

/** Converts with a named adapter, or with whichever one `detectFormat` picks for `auto`. Never throws. */
export function convertRecord(record: unknown, format: AdapterName | 'auto', opts: AnyAdapterOptions = {}): AdapterResult {
  return guard(() => {
    const name = format === 'auto' ? detectFormat(record) : format;
    if (name === undefined) return skip('unrecognized_record', 'no known format matches this record');
    return (adapters[name] as Adapter<AnyAdapterOptions>).convert(record, opts);
  });
}

/**
 * The records inside a vendor's batch envelope: a CloudTrail log file ({"Records": [...]}), an Azure Monitor
 * export ({"records": [...]}), a Graph page ({"@odata.context", "value": [...]}), or a plain array. Anything else
 * is one record.
 */
export function unwrapBatch(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (!isObj(value)) return [value];
  for (const key of ['Records', 'records']) {
    const inner = Object.prototype.hasOwnProperty.call(value, key) ? value[key] : undefined;
    if (Array.isArray(inner)) return inner;
  }
  const page = Object.prototype.hasOwnProperty.call(value, 'value') ? value['value'] : undefined;
  if (Array.isArray(page) && Object.keys(value).some((k) => k.startsWith('@odata.'))) return page;
  return [value];
}

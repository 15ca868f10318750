// The contract between vendor adapters and the rest of the pipeline. An adapter turns one vendor record into
// one canonical event input, or says why it can't with a stable reason code that callers count per reason.
import type { CanonicalEventInput } from '../schema.js';

/**
 * Every reason an adapter may skip a record. Codes are stable: metrics, `scan` summaries and tests count by them,
 * so add new ones rather than renaming.
 */
export const SKIP_REASONS = [
  /** The record is not of the shape this adapter reads (not an object, not a log line, wrong vendor). */
  'unrecognized_record',
  /** A well-formed vendor record whose event type says nothing about a session (admin config, system notices). */
  'irrelevant_event_type',
  /** An event performed by a service, app or system rather than by a user's session. */
  'not_user_activity',
  /** Nothing in the record identifies a session (or only a placeholder such as "unknown"). */
  'no_session',
  /** AWS long-term access keys (AKIA...): not session credentials. */
  'long_term_credentials',
  /** No timestamp field at all. */
  'missing_time',
  /** A timestamp that is present but not a date with a known time zone, or outside 2000..2100. */
  'invalid_time',
  /** No client address. */
  'missing_ip',
  /** A client address that is not an IPv4/IPv6 address (a placeholder, a hostname, "redacted"). */
  'invalid_ip',
  /**
   * The address and client are the vendor's own service, not the user's: a CloudTrail `sourceIPAddress` that is an
   * AWS service principal (`ec2.amazonaws.com`, `AWS Internal`), an Okta event written by Okta's own servers
   * (`Okta-Integrations`).
   */
  'service_source_ip',
  /** An access-log line that is not in combined/common format. */
  'unparseable_line',
  /** Input larger than an adapter is willing to parse (hostile or corrupt). */
  'too_large',
  /** The assembled event failed the canonical schema (message names the field). */
  'invalid_event',
  /** An unexpected exception inside an adapter; adapters never throw, so this is the last line of defence. */
  'internal_error',
] as const;

export type SkipReason = (typeof SKIP_REASONS)[number];

export type AdapterResult =
  | { ok: true; event: CanonicalEventInput }
  | { ok: false; skip: SkipReason; message: string };

/** Options every adapter understands. */
export interface AdapterOptions {
  /**
   * Tenant to use when the record itself names none. Vendor tenants (Entra tenantId, CloudTrail
   * recipientAccountId, ...) always win, because they partition the session-id namespace.
   */
  defaultTenant?: string;
}

export type AdapterName = 'canonical' | 'okta' | 'auth0' | 'entra' | 'cloudtrail' | 'ecs' | 'accesslog';

export interface Adapter<O extends AdapterOptions = AdapterOptions> {
  readonly name: AdapterName;
  /** Cheap structural check used by `--format auto`; never throws. */
  detect(record: unknown): boolean;
  /** Never throws: every failure is `{ ok: false, skip, message }`. */
  convert(record: unknown, opts?: O): AdapterResult;
}

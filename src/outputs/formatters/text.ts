// String hygiene shared by every formatter. Incident strings come from attacker-influenced input (user agents,
// user names, rule files), so every formatter funnels them through these few functions and the escaping rules
// live in one place that docs/outputs.md describes.
import { isIP } from 'node:net';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A lone UTF-16 surrogate has no UTF-8 encoding; receivers would drop or mangle it, so we pick U+FFFD first. */
export function wellFormed(value: string): string {
  return value.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * Coerces anything to a well-formed string. Incidents are typed, but they reach us through Redis and JSON, and
 * a formatter that throws loses the incident, so a wrong runtime type degrades to text instead.
 */
export function str(value: unknown): string {
  if (typeof value === 'string') return wellFormed(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return '';
}

export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const LINE_BREAK = /\r\n|[\r\n\t]/g;
const OTHER_CONTROL = /[\u0000-\u001F\u007F]/g;

/**
 * For formats where one record is one line and no escape exists for control characters (syslog, LEEF, CEF
 * header): CR, LF, CRLF and TAB become one space each (TAB because LEEF 1.0 and QRadar's property regexes use
 * it as a separator); any other C0 control or DEL becomes U+FFFD, so the loss is visible rather than silent.
 */
export function lineSafe(value: string): string {
  return wellFormed(value).replace(LINE_BREAK, ' ').replace(OTHER_CONTROL, '\uFFFD');
}

/** Like lineSafe but keeps CR and LF, for CEF extension values which have `\r` and `\n` escapes. */
export function lineSafeKeepBreaks(value: string): string {
  return wellFormed(value).replace(/\t/g, ' ').replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '\uFFFD');
}

/**
 * Cuts to at most `maxBytes` of UTF-8 without splitting a character. Limits whose unit the specs leave open
 * (CEF, LEEF) are applied in bytes: a byte budget also satisfies a character budget, never the reverse.
 */
export function truncateUtf8(value: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  // Fast path: a UTF-16 string never needs more than 3 bytes per code unit.
  if (value.length * 3 <= maxBytes) return value;
  const buf = Buffer.from(value, 'utf8');
  if (buf.length <= maxBytes) return value;
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) so the cut lands on the start of a character.
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

/**
 * RFC 5424 header fields are 1*N PRINTUSASCII (33..126). Anything else becomes `_` (so a hostname with a
 * space stays one token); empty becomes the NILVALUE `-`.
 */
export function printUsAscii(value: string, maxLength: number): string {
  const cleaned = value.replace(/[^\x21-\x7E]/g, '_').slice(0, maxLength);
  return cleaned === '' ? '-' : cleaned;
}

/** Valid IP literal for fields typed `ip` (ECS, OCSF, CEF src): zone ids are dropped, since mappings reject them. */
export function asIp(value: string): { ip: string; version: 4 | 6 } | undefined {
  const zone = value.indexOf('%');
  const ip = (zone === -1 ? value : value.slice(0, zone)).trim().toLowerCase();
  const version = isIP(ip);
  if (version === 4 || version === 6) return { ip, version };
  return undefined;
}

/** Loose shape check for user.email-style fields (non-ASCII mailboxes allowed). */
export function looksLikeEmail(value: string): boolean {
  return value.length <= 320 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/u.test(value);
}

export function uniq<T>(values: Iterable<T>): T[] {
  return [...new Set(values)];
}

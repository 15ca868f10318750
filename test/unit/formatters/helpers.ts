// Shared by the formatter tests: the reference's canonical incident, the vectors, and parsers written from the
// specs independently of src/ (they import nothing from it), so a round trip checks the formatter against the
// format rather than against itself.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { INCIDENT_STATUSES, SEVERITIES, type EvidenceValue, type Incident } from '../../../src/incidents/model.js';
import type { FormatterOptions } from '../../../src/outputs/formatters/index.js';

const VECTORS = fileURLToPath(new URL('../../fixtures/siem-vectors/', import.meta.url));

export function vectorBytes(name: string): Buffer {
  return readFileSync(VECTORS + name);
}
export function vectorText(name: string): string {
  return vectorBytes(name).toString('utf8');
}
export function vectorJsonl<T>(name: string): T[] {
  return vectorText(name)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}
export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
/** The checksum the reference published for a vector (copied alongside it). */
export function publishedSha256(name: string): string {
  const line = vectorText('SHA256SUMS')
    .split('\n')
    .find((l) => l.endsWith(`  ${name}`));
  if (!line) throw new Error(`no checksum for ${name}`);
  return line.split(' ')[0] ?? '';
}

// ---------------------------------------------------------------------------------------------------------------
// The canonical incident of siem-formats.md §0, as our Incident. Where the reference names things our model
// does not have, the mapping is: rule id R-1001 -> rule.id, rule name session-multi-country -> rule.title,
// the ECS/OCSF/syslog sentence -> evidence.reason. Tenant, status, count and event ids are ours (the reference
// has none), so their fields are expected extras in the structural comparisons.
// ---------------------------------------------------------------------------------------------------------------
export const T0 = '2026-11-23T12:00:00.000Z';
export const T0_MS = 1_795_435_200_000;
export const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
export const SESSION = '9f2c8d1e5b7a4f3c';
export const SENTENCE = 'Session 9f2c8d1e5b7a4f3c for alice@example.com used from US (203.0.113.7) and RU (198.51.100.23)';

export function canonicalIncident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: 'INC-20261123-0001',
    dedup_key: 'c0ffee00c0ffee00c0ffee00c0ffee00',
    rule: { id: 'R-1001', title: 'session-multi-country', version: 1 },
    severity: 'high',
    mitre: ['T1539'],
    status: 'open',
    session: SESSION,
    user: 'alice@example.com',
    tenant: 'acme',
    first_seen: T0,
    last_seen: T0,
    count: 1,
    suppressed: 0,
    action: 'alert',
    monitor: false,
    event_ids: ['evt-1'],
    evidence: {
      reason: SENTENCE,
      fields: {
        ip: [
          { value: '203.0.113.7', first_seen: T0, last_seen: T0, country: 'US' },
          { value: '198.51.100.23', first_seen: T0, last_seen: T0, country: 'RU' },
        ],
      },
      ips: ['203.0.113.7', '198.51.100.23'],
      user_agents: [UA],
    },
    created_at: T0,
    updated_at: T0,
    ...overrides,
  };
}

/** The producer of §0. */
export const PRODUCER: FormatterOptions = {
  producer: { vendor: 'ExampleCorp', product: 'SessionGuard', version: '1.0.0' },
  hostname: 'detector01.example.com',
  appName: 'sessionguard',
  syslog: { facility: 'local0' },
  hec: { sourcetype: 'sessionguard:incident', index: 'security', source: 'sessionguard' },
  clock: () => T0_MS,
};

// ---------------------------------------------------------------------------------------------------------------
// Documented transforms (docs/outputs.md "Escaping"), re-stated here so the tests do not borrow src's code.
// ---------------------------------------------------------------------------------------------------------------
export function wellFormed(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const n = s.charCodeAt(i + 1);
      if (n >= 0xdc00 && n <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else out += '\uFFFD';
    } else if (c >= 0xdc00 && c <= 0xdfff) out += '\uFFFD';
    else out += s[i]!;
  }
  return out;
}

function isOtherControl(c: number): boolean {
  return c < 0x20 || c === 0x7f;
}

/** Line formats: CRLF/CR/LF/TAB -> one space each, other controls -> U+FFFD. */
export function lineSafe(s: string): string {
  const w = wellFormed(s).replace(/\r\n/g, ' ');
  let out = '';
  for (const ch of w) {
    const c = ch.codePointAt(0)!;
    out += ch === '\r' || ch === '\n' || ch === '\t' ? ' ' : isOtherControl(c) ? '\uFFFD' : ch;
  }
  return out;
}

/** Longest prefix of whole code points within `max` UTF-8 bytes. */
export function cutBytes(s: string, max: number): string {
  let out = '';
  let used = 0;
  for (const ch of s) {
    const n = new TextEncoder().encode(ch).length;
    if (used + n > max) break;
    used += n;
    out += ch;
  }
  return out;
}

/** CEF extension value as a parser reads it back (CR/LF survive via escapes; edges trimmed). */
export function cefExpected(s: string, limit = 1023): string {
  let out = '';
  for (const ch of wellFormed(s)) {
    const c = ch.codePointAt(0)!;
    out += ch === '\t' ? ' ' : ch === '\r' || ch === '\n' ? ch : isOtherControl(c) ? '\uFFFD' : ch;
  }
  return cutBytes(out, limit).replace(/^ +| +$/g, '');
}

// ---------------------------------------------------------------------------------------------------------------
// Independent parsers
// ---------------------------------------------------------------------------------------------------------------
export interface ParsedCef {
  version: string;
  /** vendor, product, device version, class id, name, severity */
  header: string[];
  ext: Map<string, string>;
}

/** CEF per the ArcSight standard: header split on unescaped `|`; extension keys found left of unescaped `=`. */
export function parseCef(line: string): ParsedCef {
  if (!line.startsWith('CEF:')) throw new Error('missing CEF: prefix');
  if (/[\r\n]/.test(line)) throw new Error('raw line break');
  const fields: string[] = [];
  let cur = '';
  let i = 4;
  for (; i < line.length && fields.length < 7; i++) {
    const c = line[i]!;
    if (c === '\\' && (line[i + 1] === '\\' || line[i + 1] === '|')) {
      cur += line[i + 1]!;
      i++;
    } else if (c === '|') {
      fields.push(cur);
      cur = '';
    } else cur += c;
  }
  if (fields.length < 7) throw new Error(`header has ${fields.length} fields`);
  const ext = line.slice(i);
  const result: ParsedCef = { version: fields[0]!, header: fields.slice(1), ext: new Map() };
  if (ext === '') return result;
  const eqs: number[] = [];
  for (let j = 0; j < ext.length; j++) {
    if (ext[j] === '\\') j++;
    else if (ext[j] === '=') eqs.push(j);
  }
  if (eqs.length === 0) throw new Error('extension without key=value');
  const starts = eqs.map((e) => ext.lastIndexOf(' ', e) + 1);
  if (starts[0] !== 0) throw new Error('extension does not start with a key');
  eqs.forEach((e, k) => {
    const key = ext.slice(starts[k], e);
    if (!/^[A-Za-z0-9]+$/.test(key)) throw new Error(`bad key ${JSON.stringify(key)}`);
    if (result.ext.has(key)) throw new Error(`duplicate key ${key}`);
    const end = k + 1 < eqs.length ? starts[k + 1]! - 1 : ext.length;
    let raw = ext.slice(e + 1, end);
    if (k + 1 === eqs.length) raw = raw.replace(/ +$/, '');
    let value = '';
    for (let j = 0; j < raw.length; j++) {
      const c = raw[j]!;
      const n = raw[j + 1];
      if (c === '\\' && n !== undefined && '\\=nr'.includes(n)) {
        value += n === 'n' ? '\n' : n === 'r' ? '\r' : n;
        j++;
      } else value += c;
    }
    result.ext.set(key, value);
  });
  return result;
}

export interface ParsedLeef {
  version: string;
  vendor: string;
  product: string;
  productVersion: string;
  eventId: string;
  delimiter: string;
  attrs: Map<string, string>;
}

/** LEEF per IBM's guide: pipe header (with the de-facto `\|` escape), then key=value split on the delimiter. */
export function parseLeef(line: string): ParsedLeef {
  if (!line.startsWith('LEEF:')) throw new Error('missing LEEF: prefix');
  if (/[\r\n]/.test(line)) throw new Error('raw line break');
  const version = line.startsWith('LEEF:2.0|') ? '2.0' : line.startsWith('LEEF:1.0|') ? '1.0' : undefined;
  if (!version) throw new Error('unknown LEEF version');
  const want = version === '2.0' ? 6 : 5;
  const fields: string[] = [];
  let cur = '';
  let i = 5;
  for (; i < line.length && fields.length < want; i++) {
    const c = line[i]!;
    if (c === '\\' && (line[i + 1] === '\\' || line[i + 1] === '|')) {
      cur += line[i + 1]!;
      i++;
    } else if (c === '|') {
      fields.push(cur);
      cur = '';
    } else cur += c;
  }
  if (fields.length < want) throw new Error('short header');
  let delimiter = '\t';
  if (version === '2.0') {
    const spec = fields[5]!;
    const hex = /^(?:0x|x)([0-9a-f]{1,4})$/i.exec(spec);
    if (hex) delimiter = String.fromCharCode(parseInt(hex[1]!, 16));
    else if (spec.length === 1) delimiter = spec;
    else if (spec !== '') throw new Error(`bad delimiter ${spec}`);
  }
  const rest = line.slice(i);
  const attrs = new Map<string, string>();
  if (rest !== '') {
    for (const kv of rest.split(delimiter)) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new Error(`attribute without key: ${JSON.stringify(kv)}`);
      const key = kv.slice(0, eq);
      if (!/^[A-Za-z0-9]+$/.test(key)) throw new Error(`bad key ${key}`);
      if (attrs.has(key)) throw new Error(`duplicate key ${key}`);
      attrs.set(key, kv.slice(eq + 1));
    }
  }
  return {
    version,
    vendor: fields[1]!,
    product: fields[2]!,
    productVersion: fields[3]!,
    eventId: fields[4]!,
    delimiter,
    attrs,
  };
}

export interface Parsed5424 {
  pri: number;
  version: string;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  sd: Array<{ id: string; params: Array<[string, string]> }> | null;
  msg: string | undefined;
  bom: boolean;
}

const PRINTUSASCII = /^[\x21-\x7E]+$/;
const SD_NAME = /^[\x21-\x7E]{1,32}$/;

/** RFC 5424 §6 strictly: header field charsets and lengths, SD escapes, BOM. Throws on any violation. */
export function parse5424(message: string): Parsed5424 {
  const m = /^<(0|[1-9]\d{0,2})>([1-9]\d{0,2}) (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(message);
  if (!m) throw new Error('bad header');
  const pri = Number(m[1]);
  if (pri > 191) throw new Error('PRI out of range');
  const [, , version, timestamp, hostname, appName, procId, msgId] = m as unknown as string[];
  if (
    timestamp !== '-' &&
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/.test(timestamp!)
  ) {
    throw new Error(`bad timestamp ${timestamp}`);
  }
  const limits: Array<[string, number]> = [
    [hostname!, 255],
    [appName!, 48],
    [procId!, 128],
    [msgId!, 32],
  ];
  for (const [v, max] of limits) {
    if (!PRINTUSASCII.test(v) || v.length > max) throw new Error(`bad header field ${v}`);
  }
  let pos = m[0].length;
  let sd: Parsed5424['sd'] = null;
  if (message[pos] === '-') pos++;
  else {
    sd = [];
    const ids = new Set<string>();
    while (message[pos] === '[') {
      pos++;
      let id = '';
      while (pos < message.length && message[pos] !== ' ' && message[pos] !== ']') id += message[pos++];
      if (!SD_NAME.test(id) || /[=\]"]/.test(id)) throw new Error(`bad SD-ID ${id}`);
      if (ids.has(id)) throw new Error(`duplicate SD-ID ${id}`);
      ids.add(id);
      const params: Array<[string, string]> = [];
      while (message[pos] === ' ') {
        pos++;
        let name = '';
        while (pos < message.length && message[pos] !== '=') name += message[pos++];
        if (!SD_NAME.test(name) || /[\]" ]/.test(name)) throw new Error(`bad PARAM-NAME ${name}`);
        if (message.slice(pos, pos + 2) !== '="') throw new Error('expected ="');
        pos += 2;
        let value = '';
        for (;;) {
          if (pos >= message.length) throw new Error('unterminated PARAM-VALUE');
          const c = message[pos]!;
          if (c === '\\') {
            const n = message[pos + 1];
            if (n === '"' || n === '\\' || n === ']') {
              value += n;
              pos += 2;
              continue;
            }
            value += c;
            pos++;
            continue;
          }
          if (c === '"') {
            pos++;
            break;
          }
          if (c === ']') throw new Error('unescaped ] in PARAM-VALUE');
          value += c;
          pos++;
        }
        params.push([name, value]);
      }
      if (message[pos] !== ']') throw new Error('expected ]');
      pos++;
      sd.push({ id, params });
    }
    if (sd.length === 0) throw new Error('empty STRUCTURED-DATA');
  }
  let msg: string | undefined;
  if (pos < message.length) {
    if (message[pos] !== ' ') throw new Error('expected SP before MSG');
    msg = message.slice(pos + 1);
  }
  const bom = msg?.startsWith('\uFEFF') ?? false;
  return {
    pri,
    version: version!,
    timestamp: timestamp!,
    hostname: hostname!,
    appName: appName!,
    procId: procId!,
    msgId: msgId!,
    sd,
    msg: bom ? msg!.slice(1) : msg,
    bom,
  };
}

/** RFC 6587 §3.4.1 octet counting, on bytes. */
export function parseOctetFrame(frame: Buffer): string {
  const sp = frame.indexOf(0x20);
  const len = frame.subarray(0, sp).toString('ascii');
  if (!/^[1-9]\d*$/.test(len)) throw new Error('bad MSG-LEN');
  const body = frame.subarray(sp + 1);
  if (body.length !== Number(len)) throw new Error(`MSG-LEN ${len} but ${body.length} octets`);
  return body.toString('utf8');
}

export function sdParams(p: Parsed5424): Map<string, string> {
  return new Map(p.sd?.[0]?.params ?? []);
}

// ---------------------------------------------------------------------------------------------------------------
// JSON structural comparison
// ---------------------------------------------------------------------------------------------------------------
export function flatten(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(prefix, []);
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  } else if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    if (keys.length === 0) out.set(prefix, {});
    for (const k of keys) flatten((value as Record<string, unknown>)[k], prefix === '' ? k : `${prefix}.${k}`, out);
  } else out.set(prefix, value);
  return out;
}

/** Leaf paths that differ: changed (both have it), only in ours, only in the reference. */
export function jsonDiff(ours: unknown, reference: unknown): { changed: string[]; onlyOurs: string[]; onlyReference: string[] } {
  const a = flatten(ours);
  const b = flatten(reference);
  const changed = [...a.keys()].filter((k) => b.has(k) && JSON.stringify(a.get(k)) !== JSON.stringify(b.get(k)));
  return {
    changed: changed.sort(),
    onlyOurs: [...a.keys()].filter((k) => !b.has(k)).sort(),
    onlyReference: [...b.keys()].filter((k) => !a.has(k)).sort(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Hostile values and arbitraries
// ---------------------------------------------------------------------------------------------------------------
export const SPECIALS = ['|', '=', '\\', '"', ']', '[', '\r', '\n', '\r\n', '\t', '\0', '^', '\x1f', '\x7f', '😀', '\uD800', '\uDC00', 'ü', '€', ' ', '-', '#', '%'];

export const HOSTILE = [
  'a|b=c\\d"e]f',
  'line1\nline2\r\nline3\rend',
  'tab\there\0nul',
  'emoji 😀 ok',
  'lone \uD800 high and \uDC00 low',
  ' padded  ',
  '\\',
  '=',
  '|',
  ']',
  '"',
  'x=\\|',
  'msg=a b=c',
  'C:\\dir\\f.txt',
];

export const TEN_KB = 'x'.repeat(5_000) + '|=\\"]\r\n\t\0😀\uD800' + 'y'.repeat(5_000);

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: fc.oneof(fc.constantFrom(...SPECIALS), fc.constantFrom('a', 'B', '7', ' ', '.')), maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom(...HOSTILE),
);

const time = fc.oneof(
  fc.date({ min: new Date(0), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constant(T0),
  hostileString,
);
const ipish = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('203.0.113.7', '2001:db8::1', 'fe80::1%eth0'), hostileString);

const evidenceValue: fc.Arbitrary<EvidenceValue> = fc.record(
  {
    value: ipish,
    first_seen: time,
    last_seen: time,
    country: fc.oneof(fc.constantFrom('US', 'ru', 'DE'), hostileString),
    city: hostileString,
    asn: fc.oneof(fc.integer({ min: 0, max: 4_294_967_295 }), fc.double()),
    as_org: hostileString,
    lat: fc.double(),
    lon: fc.double(),
    browser: hostileString,
    is_script: fc.boolean(),
  },
  { requiredKeys: ['value', 'first_seen', 'last_seen'] },
);

export const arbIncident: fc.Arbitrary<Incident> = fc.record({
  id: hostileString,
  dedup_key: hostileString,
  rule: fc.record({ id: hostileString, title: hostileString, version: fc.oneof(fc.integer(), fc.double()) }),
  severity: fc.oneof(fc.constantFrom(...SEVERITIES), hostileString.map((s) => s as Incident['severity'])),
  mitre: fc.array(fc.oneof(fc.constantFrom('T1539', 'T1550.004', 'TA0006', 't1185', 'T9999.123'), hostileString), { maxLength: 4 }),
  status: fc.oneof(fc.constantFrom(...INCIDENT_STATUSES), hostileString.map((s) => s as Incident['status'])),
  session: hostileString,
  user: fc.option(hostileString, { nil: undefined }),
  tenant: hostileString,
  first_seen: time,
  last_seen: time,
  count: fc.oneof(fc.nat(), fc.double()),
  suppressed: fc.nat(),
  action: fc.constantFrom('alert', 'revoke:shadow', 'revoke:enforce'),
  monitor: fc.boolean(),
  event_ids: fc.array(hostileString, { maxLength: 3 }),
  evidence: fc.record(
    {
      reason: hostileString,
      fields: fc.dictionary(fc.oneof(fc.constantFrom('ip', 'country', '__proto__'), hostileString), fc.array(evidenceValue, { maxLength: 3 }), { maxKeys: 3 }),
      ips: fc.array(ipish, { maxLength: 4 }),
      user_agents: fc.array(hostileString, { maxLength: 3 }),
      details: fc.dictionary(hostileString, fc.oneof(hostileString, fc.double(), fc.boolean()), { maxKeys: 3 }),
    },
    { requiredKeys: ['reason', 'fields', 'ips', 'user_agents'] },
  ),
  created_at: time,
  updated_at: time,
});

/** An incident carrying `value` in every free-text slot, for round-trip tests. */
export function hostileIncident(value: string): Incident {
  return canonicalIncident({
    id: value,
    rule: { id: value, title: value, version: 1 },
    session: value,
    user: value,
    tenant: value,
    status: value as Incident['status'],
    evidence: {
      reason: value,
      fields: {},
      ips: ['198.51.100.23'],
      user_agents: [value],
    },
  });
}

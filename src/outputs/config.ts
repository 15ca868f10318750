// The sinks file: where incidents are forwarded, in which format, filtered how. Path from RG_SINKS_FILE (YAML or
// JSON; JSON is read by the YAML parser so both get line numbers). Validated once at startup: a sink that is
// misconfigured must stop the start, not silently drop incidents later. Errors name file:line:column and the
// field path, as the rule loader does.
//
// Secrets never live in the file: it is the kind of file that gets committed, copied into tickets and printed by
// config dumps. The file names an environment variable (`token_env: SPLUNK_HEC_TOKEN`) and the value is read
// from the environment here, once, into a Secret that refuses to serialise.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { inspect } from 'node:util';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { SEVERITIES, severityRank, type Incident, type Severity } from '../incidents/model.js';
import type { IncidentChange } from '../pipeline/pipeline.js';
import { nearest } from '../rules/loader.js';
import {
  FormatterOptionsError,
  OUTPUT_FORMATS,
  SYSLOG_FACILITIES,
  validateFormatterOptions,
  type FormatterOptions,
  type OutputFormat,
} from './formatters/index.js';

export const SINK_TYPES = ['file', 'stdout', 'http_hec', 'http_bulk', 'http_json', 'syslog'] as const;
export type SinkType = (typeof SINK_TYPES)[number];
export const SYSLOG_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
export type SyslogTransport = (typeof SYSLOG_TRANSPORTS)[number];
export const CHANGE_KINDS = ['created', 'updated'] as const;

/** Formats each sink type can carry. HEC wraps non-HEC records as the envelope's `event`; syslog carries single lines. */
export const FORMATS_BY_TYPE: Readonly<Record<SinkType, readonly OutputFormat[]>> = {
  file: OUTPUT_FORMATS,
  stdout: OUTPUT_FORMATS,
  http_hec: ['hec', 'ecs', 'ocsf', 'jsonl', 'cef', 'leef', 'leef2', 'syslog'],
  // A _bulk item is an action line plus a document; the `bulk` formatter owns the deterministic `_id`.
  http_bulk: ['bulk'],
  http_json: ['jsonl', 'ecs', 'ocsf'],
  syslog: ['syslog', 'cef', 'leef', 'leef2', 'jsonl', 'ecs', 'ocsf'],
};

export const DEFAULT_FORMAT: Readonly<Record<SinkType, OutputFormat>> = {
  file: 'jsonl', stdout: 'jsonl', http_hec: 'hec', http_bulk: 'bulk', http_json: 'jsonl', syslog: 'syslog',
};

/** A secret read from the environment: usable through reveal(), invisible to JSON.stringify, util.inspect and pino. */
export class Secret {
  readonly #value: string;
  constructor(value: string, readonly envName: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return `[secret from $${this.envName}]`;
  }
  toString(): string {
    return this.toJSON();
  }
  [inspect.custom](): string {
    return this.toJSON();
  }
}

export interface RetryPolicy {
  /** total attempts, the first included */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface BatchPolicy {
  maxEvents: number;
  maxBytes: number;
  /** how long the first record of a batch waits for company; 0 = the records that arrived in the same tick */
  lingerMs: number;
}

export interface SinkFilter {
  minSeverity?: Severity;
  include?: RegExp[];
  exclude?: RegExp[];
  changes: ReadonlyArray<IncidentChange['outcome']>;
}

export interface TlsSettings {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
  servername?: string;
}

interface SinkCommon {
  name: string;
  format: OutputFormat;
  filter: SinkFilter;
  formatOptions: FormatterOptions;
  retry: RetryPolicy;
  batch: BatchPolicy;
}

export interface FileSinkConfig extends SinkCommon {
  type: 'file';
  /** absolute */
  path: string;
  maxBytes: number;
  keep: number;
  fsync: boolean;
}
export interface StdoutSinkConfig extends SinkCommon {
  type: 'stdout';
}
export interface HttpCommon {
  url: string;
  tls?: TlsSettings;
  timeoutMs: number;
}
export interface HecSinkConfig extends SinkCommon, HttpCommon {
  type: 'http_hec';
  token: Secret;
  channel: string;
  ack?: { pollIntervalMs: number; timeoutMs: number };
}
export interface BulkSinkConfig extends SinkCommon, HttpCommon {
  type: 'http_bulk';
  authorization?: Secret;
}
export interface JsonSinkConfig extends SinkCommon, HttpCommon {
  type: 'http_json';
  method: 'POST' | 'PUT';
  headers: Record<string, string>;
  authorization?: Secret;
}
export interface SyslogSinkConfig extends SinkCommon {
  type: 'syslog';
  transport: SyslogTransport;
  host: string;
  port: number;
  tls?: TlsSettings;
  /** how non-syslog formats (CEF, LEEF, JSON) are carried */
  wrapper: 'rfc5424' | 'rfc3164';
  /** UDP datagram cap (UTF-8 bytes); undefined on TCP/TLS */
  maxBytes?: number;
  connectTimeoutMs: number;
}

export type SinkConfig = FileSinkConfig | StdoutSinkConfig | HecSinkConfig | BulkSinkConfig | JsonSinkConfig | SyslogSinkConfig;

export interface SinksConfig {
  /** the file it came from; undefined when RG_SINKS_FILE is unset */
  file?: string;
  sinks: SinkConfig[];
  delivery: { concurrency: number };
}

export interface SinkConfigIssue {
  file: string;
  line: number;
  column: number;
  /** dotted path of the offending field, '' for the whole file */
  path: string;
  message: string;
}

export class SinkConfigError extends Error {
  readonly code = 'SINKS_CONFIG_INVALID';
  constructor(readonly issues: SinkConfigIssue[]) {
    super(`invalid sinks file:\n  ${issues.map(formatSinkConfigIssue).join('\n  ')}`);
    this.name = 'SinkConfigError';
  }
}

export function formatSinkConfigIssue(i: SinkConfigIssue): string {
  return `${i.file}:${i.line}:${i.column}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
}

// ---------------------------------------------------------------------------------------------------------
// Schema of the file (snake_case, as operators write YAML).

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const sinkName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'a sink name is 1-63 letters, digits, _ or -, starting with a letter or digit');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the NAME of an environment variable (e.g. SPLUNK_HEC_TOKEN), not its value');
const httpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}, 'an http:// or https:// URL');
const rulePattern = z.string().regex(/^[A-Za-z0-9*._-]{1,128}$/, 'a rule id, or a pattern with * (e.g. session-*)');

const filterSchema = z.strictObject({
  min_severity: z.enum(SEVERITIES).optional(),
  rules: z.strictObject({ include: z.array(rulePattern).min(1).optional(), exclude: z.array(rulePattern).min(1).optional() }).optional(),
  changes: z.array(z.enum(CHANGE_KINDS)).min(1).optional(),
});
const retrySchema = z.strictObject({
  attempts: int(1, 100).optional(),
  base_delay_ms: int(1, 3_600_000).optional(),
  max_delay_ms: int(1, 86_400_000).optional(),
});
const batchSchema = z.strictObject({
  max_events: int(1, 10_000).optional(),
  max_bytes: int(1024, 100 * 1024 * 1024).optional(),
  linger_ms: int(0, 60_000).optional(),
});
const facilityNames = Object.keys(SYSLOG_FACILITIES) as [keyof typeof SYSLOG_FACILITIES, ...(keyof typeof SYSLOG_FACILITIES)[]];
const formatOptionsSchema = z.strictObject({
  hostname: z.string().max(255).optional(),
  app_name: z.string().min(1).max(48).optional(),
  producer: z.strictObject({ vendor: z.string().min(1).max(63).optional(), product: z.string().min(1).max(63).optional(), version: z.string().min(1).max(31).optional() }).optional(),
  syslog: z.strictObject({
    facility: z.union([z.enum(facilityNames), int(0, 23)]).optional(),
    enterprise_id: z.number().int().min(1).optional(),
    proc_id: z.string().min(1).max(128).optional(),
    max_bytes: z.number().int().min(480).optional(),
  }).optional(),
  hec: z.strictObject({ sourcetype: z.string().min(1).optional(), index: z.string().min(1).optional(), source: z.string().min(1).optional() }).optional(),
  leef: z.strictObject({ delimiter: z.string().min(1).max(6).optional() }).optional(),
  bulk: z.strictObject({ index: z.string().min(1).max(255).optional(), action: z.enum(['create', 'index']).optional() }).optional(),
});
type FormatOptionsInput = z.infer<typeof formatOptionsSchema>;

const tlsSchema = z.strictObject({
  ca_file: z.string().min(1).optional(),
  cert_file: z.string().min(1).optional(),
  key_file: z.string().min(1).optional(),
  reject_unauthorized: z.boolean().optional(),
  servername: z.string().min(1).max(255).optional(),
});
const authSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('basic'), username: z.string().min(1).max(256), password_env: envName }),
  z.strictObject({ type: z.literal('bearer'), token_env: envName }),
  // Elasticsearch API keys: `Authorization: ApiKey <base64 id:key>`
  z.strictObject({ type: z.literal('api_key'), api_key_env: envName }),
]);

const common = {
  name: sinkName,
  enabled: z.boolean().optional(),
  format: z.enum(OUTPUT_FORMATS).optional(),
  filter: filterSchema.optional(),
  format_options: formatOptionsSchema.optional(),
  retry: retrySchema.optional(),
  batch: batchSchema.optional(),
};
const httpCommon = { url: httpUrl, tls: tlsSchema.optional(), timeout_ms: int(100, 600_000).optional() };

const sinkSchema = z.discriminatedUnion('type', [
  z.strictObject({
    ...common,
    type: z.literal('file'),
    path: z.string().min(1),
    rotate: z.strictObject({ max_bytes: int(1024, Number.MAX_SAFE_INTEGER).optional(), keep: int(1, 1000).optional() }).optional(),
    fsync: z.boolean().optional(),
  }),
  z.strictObject({ ...common, type: z.literal('stdout') }),
  z.strictObject({
    ...common,
    ...httpCommon,
    type: z.literal('http_hec'),
    token_env: envName,
    channel: z.string().regex(/^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/, 'a GUID such as 00872DC6-AC83-4EDE-8AFE-8413C3825C4C').optional(),
    ack: z.strictObject({ enabled: z.boolean().optional(), poll_interval_ms: int(10, 600_000).optional(), timeout_ms: int(100, 3_600_000).optional() }).optional(),
  }),
  z.strictObject({ ...common, ...httpCommon, type: z.literal('http_bulk'), auth: authSchema.optional() }),
  z.strictObject({
    ...common,
    ...httpCommon,
    type: z.literal('http_json'),
    method: z.enum(['POST', 'PUT']).optional(),
    headers: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'an HTTP header name'), z.string().max(4096)).optional(),
    auth: authSchema.optional(),
  }),
  z.strictObject({
    ...common,
    type: z.literal('syslog'),
    transport: z.enum(SYSLOG_TRANSPORTS),
    host: z.string().min(1).max(255),
    port: int(1, 65535).optional(),
    tls: tlsSchema.optional(),
    wrapper: z.enum(['rfc5424', 'rfc3164']).optional(),
    max_bytes: int(480, 65_507).optional(),
    connect_timeout_ms: int(100, 600_000).optional(),
  }),
]);
type SinkInput = z.infer<typeof sinkSchema>;

const fileSchema = z.strictObject({
  version: z.literal(1).optional(),
  delivery: z.strictObject({ concurrency: int(1, 1024).optional() }).optional(),
  format_options: formatOptionsSchema.optional(),
  sinks: z.array(sinkSchema).max(64),
});

// ---------------------------------------------------------------------------------------------------------
// Positions and messages.

type Path = readonly PropertyKey[];

class Positions {
  constructor(private readonly doc: Document | undefined, private readonly lines: LineCounter | undefined, readonly file: string) {}

  at(path: Path, key?: string): { line: number; column: number } {
    if (this.doc && this.lines) {
      // As deep as the document goes along the path; the key itself when one is named.
      for (let depth = path.length; depth >= 0; depth--) {
        const node = this.doc.getIn(path.slice(0, depth) as unknown[], true);
        if (isNode(node) && node.range) {
          if (key !== undefined && depth === path.length && 'items' in node && Array.isArray(node.items)) {
            for (const item of node.items as { key?: unknown }[]) {
              const k = item.key;
              if (isNode(k) && k.range && (k as unknown as { value?: unknown }).value === key) return this.pos(k.range[0]);
            }
          }
          return this.pos(node.range[0]);
        }
      }
    }
    return { line: 1, column: 1 };
  }

  private pos(offset: number): { line: number; column: number } {
    const p = this.lines!.linePos(offset);
    return { line: p.line, column: p.col };
  }

  issue(path: Path, message: string, key?: string): SinkConfigIssue {
    const full = key === undefined ? path : [...path, key];
    return { file: this.file, ...this.at(path, key), path: full.map(String).join('.'), message };
  }
}

// Keys that would hold a literal secret, and the key that names its environment variable instead.
const SECRET_KEYS: Record<string, string> = {
  token: 'token_env', hec_token: 'token_env', password: 'password_env', passwd: 'password_env', secret: 'token_env',
  api_key: 'api_key_env', apikey: 'api_key_env', bearer: 'token_env', bearer_token: 'token_env', authorization: 'auth',
  credentials: 'auth',
};
const SECRET_HEADER = /authorization|cookie|token|secret|api[-_]?key|password|^x-splunk/i;

/**
 * Literal secrets anywhere in the file. Also answers the paths whose zod complaints they explain (a `token:`
 * where `token_env:` belongs makes "token_env is required" noise), so the operator reads one clear message.
 */
function literalSecretIssues(value: unknown, pos: Positions, path: PropertyKey[] = [], implied: Set<string> = new Set()): { issues: SinkConfigIssue[]; implied: Set<string> } {
  const out: SinkConfigIssue[] = [];
  if (Array.isArray(value)) {
    value.forEach((v, i) => out.push(...literalSecretIssues(v, pos, [...path, i], implied).issues));
    return { issues: out, implied };
  }
  if (value === null || typeof value !== 'object') return { issues: out, implied };
  for (const [k, v] of Object.entries(value)) {
    if (path.length >= 1 && path[path.length - 1] === 'headers') {
      if (SECRET_HEADER.test(k)) out.push(pos.issue(path, 'credentials are not allowed as literal headers in the sinks file; use `auth` (password_env, token_env or api_key_env)', k));
      continue;
    }
    const instead = SECRET_KEYS[k.toLowerCase()];
    if (instead !== undefined) {
      const hint = instead === 'auth'
        ? 'configure `auth` with password_env/token_env/api_key_env'
        : `write \`${instead}: NAME_OF_AN_ENV_VAR\` and put the secret in that environment variable`;
      out.push(pos.issue(path, `literal secrets are not allowed in the sinks file; ${hint}`, k));
      implied.add([...path, k].map(String).join('.'));
      implied.add([...path, instead].map(String).join('.'));
      continue;
    }
    out.push(...literalSecretIssues(v, pos, [...path, k], implied).issues);
  }
  return { issues: out, implied };
}

type Issue = z.core.$ZodIssue;

function keysOf(schema: z.ZodType): string[] {
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

/** The keys the schema accepts at `path`, for a "did you mean". */
function knownKeysAt(raw: unknown, path: Path): string[] {
  if (path.length === 0) return keysOf(fileSchema);
  if (path[0] === 'format_options') return formatOptionKeys(path.slice(1));
  if (path[0] === 'delivery') return ['concurrency'];
  if (path[0] !== 'sinks' || path.length < 2) return [];
  const sink = (raw as { sinks?: unknown[] }).sinks?.[path[1] as number] as { type?: unknown } | undefined;
  const option = sinkSchema.options.find((o) => o.shape.type.value === sink?.type);
  const rest = path.slice(2);
  if (rest.length === 0) return option ? keysOf(option) : [...new Set(sinkSchema.options.flatMap((o) => keysOf(o)))];
  switch (rest[0]) {
    case 'filter': return rest.length === 1 ? keysOf(filterSchema) : ['include', 'exclude'];
    case 'retry': return keysOf(retrySchema);
    case 'batch': return keysOf(batchSchema);
    case 'tls': return keysOf(tlsSchema);
    case 'rotate': return ['max_bytes', 'keep'];
    case 'ack': return ['enabled', 'poll_interval_ms', 'timeout_ms'];
    case 'auth': return ['type', 'username', 'password_env', 'token_env', 'api_key_env'];
    case 'format_options': return formatOptionKeys(rest.slice(1));
    default: return [];
  }
}

function formatOptionKeys(path: Path): string[] {
  if (path.length === 0) return keysOf(formatOptionsSchema);
  const nested: Record<string, string[]> = {
    producer: ['vendor', 'product', 'version'], syslog: ['facility', 'enterprise_id', 'proc_id', 'max_bytes'],
    hec: ['sourcetype', 'index', 'source'], leef: ['delimiter'], bulk: ['index', 'action'],
  };
  return nested[String(path[0])] ?? [];
}

function zodIssues(error: z.ZodError, raw: unknown, pos: Positions, skip: Set<string>): SinkConfigIssue[] {
  const out: SinkConfigIssue[] = [];
  for (const issue of error.issues as Issue[]) {
    const path = issue.path;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const full = [...path, key].map(String).join('.');
        if (skip.has(full)) continue;
        const suggestion = nearest(key, knownKeysAt(raw, path));
        out.push(pos.issue(path, `unknown key${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`, key));
      }
      continue;
    }
    if (skip.has(path.map(String).join('.'))) continue;
    let message = issue.message;
    if (issue.code === 'invalid_union' && (issue as { note?: string }).note === 'No matching discriminator') {
      // The path ends at the discriminator: sinks.N.type, or sinks.N.auth.type.
      message = path[path.length - 2] === 'auth' ? 'type must be one of: basic, bearer, api_key' : `type must be one of: ${SINK_TYPES.join(', ')}`;
    }
    out.push(pos.issue(path, message));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Resolution: defaults, environment variables, files, cross-field rules.

const DEFAULT_RETRY: RetryPolicy = { attempts: 10, baseDelayMs: 1000, maxDelayMs: 300_000 };

function defaultBatch(type: SinkType): BatchPolicy {
  switch (type) {
    // Splunk and most HEC proxies are happiest near 1 MB per request (reference §5.6).
    case 'http_hec': return { maxEvents: 100, maxBytes: 1024 * 1024, lingerMs: 20 };
    case 'http_bulk': return { maxEvents: 500, maxBytes: 5 * 1024 * 1024, lingerMs: 20 };
    // A generic endpoint is assumed to take one object per request unless told max_events > 1 (then a JSON array).
    case 'http_json': return { maxEvents: 1, maxBytes: 1024 * 1024, lingerMs: 0 };
    default: return { maxEvents: 500, maxBytes: 4 * 1024 * 1024, lingerMs: 0 };
  }
}

function globToRegExp(pattern: string): RegExp {
  return new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join('.*') + '$');
}

function toFormatterOptions(o: FormatOptionsInput | undefined): FormatterOptions {
  const out: FormatterOptions = {};
  if (!o) return out;
  if (o.hostname !== undefined) out.hostname = o.hostname;
  if (o.app_name !== undefined) out.appName = o.app_name;
  if (o.producer) out.producer = { ...o.producer };
  if (o.syslog) {
    out.syslog = {};
    if (o.syslog.facility !== undefined) out.syslog.facility = o.syslog.facility;
    if (o.syslog.enterprise_id !== undefined) out.syslog.enterpriseId = o.syslog.enterprise_id;
    if (o.syslog.proc_id !== undefined) out.syslog.procId = o.syslog.proc_id;
    if (o.syslog.max_bytes !== undefined) out.syslog.maxBytes = o.syslog.max_bytes;
  }
  if (o.hec) out.hec = { ...o.hec };
  if (o.leef) out.leef = { ...o.leef };
  if (o.bulk) out.bulk = { ...o.bulk };
  return out;
}

function mergeFormatterOptions(base: FormatterOptions, over: FormatterOptions): FormatterOptions {
  const out: FormatterOptions = { ...base, ...over };
  for (const k of ['producer', 'syslog', 'hec', 'leef', 'bulk'] as const) {
    if (base[k] !== undefined || over[k] !== undefined) (out as Record<string, unknown>)[k] = { ...base[k], ...over[k] };
  }
  return out;
}

const CAMEL_TO_SNAKE: Record<string, string> = { enterpriseId: 'enterprise_id', maxBytes: 'max_bytes', procId: 'proc_id', appName: 'app_name' };

export interface ResolveContext {
  env: NodeJS.ProcessEnv;
  /** relative paths (file sink, TLS files) are resolved against this: the sinks file's directory */
  baseDir: string;
  /** default for format_options.hostname; os.hostname() unless given (tests pin it) */
  hostname?: string;
}

class Resolver {
  readonly issues: SinkConfigIssue[] = [];
  constructor(private readonly pos: Positions, private readonly ctx: ResolveContext) {}

  secret(path: Path, key: string, name: string): Secret | undefined {
    const value = this.ctx.env[name];
    if (value === undefined || value === '') {
      this.issues.push(this.pos.issue(path, `environment variable ${name} is not set (this sink reads its secret from it)`, key));
      return undefined;
    }
    return new Secret(value, name);
  }

  readText(path: Path, key: string, file: string): string | undefined {
    const full = isAbsolute(file) ? file : resolve(this.ctx.baseDir, file);
    try {
      return readFileSync(full, 'utf8');
    } catch (err) {
      this.issues.push(this.pos.issue(path, `cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, key));
      return undefined;
    }
  }

  tls(path: Path, t: z.infer<typeof tlsSchema> | undefined): TlsSettings | undefined {
    if (!t) return undefined;
    const p = [...path, 'tls'];
    const out: TlsSettings = { rejectUnauthorized: t.reject_unauthorized ?? true };
    if (t.ca_file !== undefined) out.ca = this.readText(p, 'ca_file', t.ca_file);
    if (t.cert_file !== undefined) out.cert = this.readText(p, 'cert_file', t.cert_file);
    if (t.key_file !== undefined) out.key = this.readText(p, 'key_file', t.key_file);
    if ((t.cert_file === undefined) !== (t.key_file === undefined)) this.issues.push(this.pos.issue(p, 'cert_file and key_file go together (client certificate)'));
    if (t.servername !== undefined) out.servername = t.servername;
    if (out.ca === undefined) delete out.ca;
    if (out.cert === undefined) delete out.cert;
    if (out.key === undefined) delete out.key;
    return out;
  }

  auth(path: Path, a: z.infer<typeof authSchema> | undefined): Secret | undefined {
    if (!a) return undefined;
    const p = [...path, 'auth'];
    switch (a.type) {
      case 'basic': {
        const pw = this.secret(p, 'password_env', a.password_env);
        return pw && new Secret('Basic ' + Buffer.from(`${a.username}:${pw.reveal()}`).toString('base64'), a.password_env);
      }
      case 'bearer': {
        const t = this.secret(p, 'token_env', a.token_env);
        return t && new Secret('Bearer ' + t.reveal(), a.token_env);
      }
      case 'api_key': {
        const k = this.secret(p, 'api_key_env', a.api_key_env);
        return k && new Secret('ApiKey ' + k.reveal(), a.api_key_env);
      }
    }
  }

  url(path: Path, raw: string): URL {
    const u = new URL(raw);
    if (u.username || u.password) this.issues.push(this.pos.issue(path, 'credentials in the URL are literal secrets; use auth/token_env instead', 'url'));
    for (const k of u.searchParams.keys()) {
      if (/token|password|secret|key|auth/i.test(k)) this.issues.push(this.pos.issue(path, `query parameter "${k}" looks like a literal secret; use auth/token_env instead`, 'url'));
    }
    return u;
  }

  sink(index: number, s: SinkInput, defaults: FormatterOptions): SinkConfig | undefined {
    const path: PropertyKey[] = ['sinks', index];
    const before = this.issues.length;
    const format = s.format ?? DEFAULT_FORMAT[s.type];
    if (!FORMATS_BY_TYPE[s.type].includes(format)) {
      this.issues.push(this.pos.issue(path, `a ${s.type} sink carries ${FORMATS_BY_TYPE[s.type].join(', ')}; not ${format}`, 'format'));
    }
    let formatOptions = mergeFormatterOptions(defaults, toFormatterOptions(s.format_options));
    try {
      validateFormatterOptions(formatOptions);
    } catch (err) {
      if (!(err instanceof FormatterOptionsError)) throw err;
      const [group, key] = err.path.split('.');
      const snake = [group, key].filter((x): x is string => x !== undefined).map((x) => CAMEL_TO_SNAKE[x] ?? x);
      const inSink = s.format_options !== undefined;
      this.issues.push(this.pos.issue(inSink ? [...path, 'format_options', ...snake.slice(0, -1)] : ['format_options', ...snake.slice(0, -1)], err.message, snake[snake.length - 1]));
    }
    const retry: RetryPolicy = {
      attempts: s.retry?.attempts ?? DEFAULT_RETRY.attempts,
      baseDelayMs: s.retry?.base_delay_ms ?? DEFAULT_RETRY.baseDelayMs,
      maxDelayMs: s.retry?.max_delay_ms ?? Math.max(DEFAULT_RETRY.maxDelayMs, s.retry?.base_delay_ms ?? 0),
    };
    if (retry.maxDelayMs < retry.baseDelayMs) this.issues.push(this.pos.issue([...path, 'retry'], 'max_delay_ms must be at least base_delay_ms', 'max_delay_ms'));
    const db = defaultBatch(s.type);
    const batch: BatchPolicy = { maxEvents: s.batch?.max_events ?? db.maxEvents, maxBytes: s.batch?.max_bytes ?? db.maxBytes, lingerMs: s.batch?.linger_ms ?? db.lingerMs };
    const filter: SinkFilter = { changes: s.filter?.changes ?? [...CHANGE_KINDS] };
    if (s.filter?.min_severity) filter.minSeverity = s.filter.min_severity;
    if (s.filter?.rules?.include) filter.include = s.filter.rules.include.map(globToRegExp);
    if (s.filter?.rules?.exclude) filter.exclude = s.filter.rules.exclude.map(globToRegExp);
    const common: SinkCommon = { name: s.name, format, filter, formatOptions, retry, batch };

    let out: SinkConfig | undefined;
    switch (s.type) {
      case 'file':
        out = {
          ...common, type: 'file', path: isAbsolute(s.path) ? s.path : resolve(this.ctx.baseDir, s.path),
          maxBytes: s.rotate?.max_bytes ?? 100 * 1024 * 1024, keep: s.rotate?.keep ?? 5, fsync: s.fsync ?? false,
        };
        break;
      case 'stdout':
        out = { ...common, type: 'stdout' };
        break;
      case 'http_hec': {
        const u = this.url(path, s.url);
        // A bare host means the JSON event endpoint; any explicit path is taken as given (e.g. /event/1.0).
        if (u.pathname === '/' || u.pathname === '') u.pathname = '/services/collector/event';
        const token = this.secret(path, 'token_env', s.token_env);
        const ack = s.ack && s.ack.enabled !== false ? { pollIntervalMs: s.ack.poll_interval_ms ?? 10_000, timeoutMs: s.ack.timeout_ms ?? 300_000 } : undefined;
        const tls = this.tls(path, s.tls);
        out = {
          ...common, type: 'http_hec', url: u.toString(), timeoutMs: s.timeout_ms ?? 10_000,
          // A fixed channel lets the HEC side correlate requests (and acks) across restarts; one is made up if absent.
          token: token ?? new Secret('', s.token_env), channel: (s.channel ?? globalThis.crypto.randomUUID()).toUpperCase(),
          ...(ack ? { ack } : {}), ...(tls ? { tls } : {}),
        };
        break;
      }
      case 'http_bulk': {
        const u = this.url(path, s.url);
        if (!/\/_bulk$/.test(u.pathname)) u.pathname = u.pathname.replace(/\/+$/, '') + '/_bulk';
        const authorization = this.auth(path, s.auth);
        const tls = this.tls(path, s.tls);
        out = { ...common, type: 'http_bulk', url: u.toString(), timeoutMs: s.timeout_ms ?? 30_000, ...(authorization ? { authorization } : {}), ...(tls ? { tls } : {}) };
        break;
      }
      case 'http_json': {
        const u = this.url(path, s.url);
        const authorization = this.auth(path, s.auth);
        const tls = this.tls(path, s.tls);
        out = {
          ...common, type: 'http_json', url: u.toString(), timeoutMs: s.timeout_ms ?? 10_000, method: s.method ?? 'POST', headers: { ...s.headers },
          ...(authorization ? { authorization } : {}), ...(tls ? { tls } : {}),
        };
        break;
      }
      case 'syslog': {
        if (s.tls && s.transport !== 'tls') this.issues.push(this.pos.issue(path, `tls settings need transport: tls (this sink uses ${s.transport})`, 'tls'));
        if (s.max_bytes !== undefined && s.transport !== 'udp') this.issues.push(this.pos.issue(path, 'max_bytes caps UDP datagrams; TCP and TLS frames have no cap (use format_options.syslog.max_bytes to cap the record itself)', 'max_bytes'));
        const tls = s.transport === 'tls' ? this.tls(path, s.tls ?? {}) : undefined;
        // 2048: what RFC 5426 says every receiver SHOULD accept; larger datagrams risk fragmentation and loss.
        const maxBytes = s.transport === 'udp' ? s.max_bytes ?? 2048 : undefined;
        if (maxBytes !== undefined && format === 'syslog') {
          // The syslog formatter knows how to shrink a record without breaking its structured data; let it.
          const cap = Math.min(formatOptions.syslog?.maxBytes ?? maxBytes, maxBytes);
          formatOptions = { ...formatOptions, syslog: { ...formatOptions.syslog, maxBytes: cap } };
        }
        out = {
          ...common, formatOptions, type: 'syslog', transport: s.transport, host: s.host,
          port: s.port ?? (s.transport === 'tls' ? 6514 : 514), wrapper: s.wrapper ?? 'rfc5424',
          connectTimeoutMs: s.connect_timeout_ms ?? 5000, ...(maxBytes !== undefined ? { maxBytes } : {}), ...(tls ? { tls } : {}),
        };
        break;
      }
    }
    return this.issues.length === before ? out : undefined;
  }
}

/** Parses and resolves sinks-file text. Throws SinkConfigError listing every problem found. */
export function parseSinksText(text: string, file: string, ctx: ResolveContext): SinksConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const pos = new Positions(doc, lines, file);
  if (doc.errors.length > 0) {
    throw new SinkConfigError(doc.errors.map((e) => {
      const p = lines.linePos(e.pos[0]);
      return { file, line: p.line, column: p.col, path: '', message: `YAML: ${e.message.split('\n')[0]}` };
    }));
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 50 });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SinkConfigError([{ file, line: 1, column: 1, path: '', message: 'the sinks file must hold one mapping with a `sinks:` list' }]);
  }
  const secrets = literalSecretIssues(raw, pos);
  const parsed = fileSchema.safeParse(raw);
  const issues = [...secrets.issues, ...(parsed.success ? [] : zodIssues(parsed.error, raw, pos, secrets.implied))];
  if (!parsed.success || issues.length > 0) throw new SinkConfigError(issues);

  const resolver = new Resolver(pos, ctx);
  const defaults = mergeFormatterOptions({ hostname: ctx.hostname ?? osHostname() }, toFormatterOptions(parsed.data.format_options));
  const sinks: SinkConfig[] = [];
  const seen = new Map<string, number>();
  parsed.data.sinks.forEach((s, i) => {
    const other = seen.get(s.name);
    if (other !== undefined) resolver.issues.push(pos.issue(['sinks', i], `duplicate sink name "${s.name}" (also sinks.${other})`, 'name'));
    seen.set(s.name, i);
    if (s.enabled === false) return;
    const sink = resolver.sink(i, s, defaults);
    if (sink) sinks.push(sink);
  });
  if (resolver.issues.length > 0) throw new SinkConfigError(resolver.issues);
  return { file, sinks, delivery: { concurrency: parsed.data.delivery?.concurrency ?? 16 } };
}

const MAX_SINKS_FILE_BYTES = 1024 * 1024;

export async function loadSinksFile(path: string, env: NodeJS.ProcessEnv = process.env, hostname?: string): Promise<SinksConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SinkConfigError([{ file: path, line: 1, column: 1, path: '', message: `cannot read the sinks file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  if (Buffer.byteLength(text) > MAX_SINKS_FILE_BYTES) {
    throw new SinkConfigError([{ file: path, line: 1, column: 1, path: '', message: `the sinks file is larger than ${MAX_SINKS_FILE_BYTES} bytes` }]);
  }
  return parseSinksText(text, path, { env, baseDir: dirname(resolve(path)), ...(hostname !== undefined ? { hostname } : {}) });
}

/** RG_SINKS_FILE, or no sinks when it is unset. */
export async function loadSinksFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<SinksConfig> {
  const file = env.RG_SINKS_FILE;
  if (file === undefined || file === '') return { sinks: [], delivery: { concurrency: 16 } };
  return loadSinksFile(file, env);
}

/** Whether a sink wants this incident change. */
export function sinkAccepts(filter: SinkFilter, incident: Incident, outcome: IncidentChange['outcome']): boolean {
  if (!filter.changes.includes(outcome)) return false;
  if (filter.minSeverity !== undefined && severityRank(incident.severity) < severityRank(filter.minSeverity)) return false;
  const rule = incident.rule.id;
  if (filter.include && !filter.include.some((r) => r.test(rule))) return false;
  if (filter.exclude && filter.exclude.some((r) => r.test(rule))) return false;
  return true;
}

/** What is safe to log about a sink: no secrets, no TLS material. */
export function describeSink(s: SinkConfig): Record<string, unknown> {
  const base: Record<string, unknown> = { name: s.name, type: s.type, format: s.format };
  if ('url' in s) base.url = s.url;
  if (s.type === 'file') base.path = s.path;
  if (s.type === 'syslog') Object.assign(base, { transport: s.transport, host: s.host, port: s.port });
  return base;
}

// Options are configuration, checked once per options object: a bad facility or LEEF delimiter is an operator
// error worth a clear exception at startup, whereas incident values never make a formatter throw.

export const SYSLOG_FACILITIES = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10,
  ftp: 11, ntp: 12, audit: 13, alert: 14, clock: 15,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
} as const;
export type SyslogFacilityName = keyof typeof SYSLOG_FACILITIES;

export interface FormatterOptions {
  /** The detector as the SIEM sees it (CEF/LEEF header, ECS observer.*, OCSF metadata.product). */
  producer?: { vendor?: string; product?: string; version?: string };
  /** This host's name (syslog HOSTNAME, HEC host, CEF dvchost, ECS observer.hostname); omitted/`-` when unset. */
  hostname?: string;
  /** syslog APP-NAME and default HEC source; default `replayguard`. */
  appName?: string;
  syslog?: {
    /** name or number 0..23; default local0 (16) */
    facility?: SyslogFacilityName | number;
    /** IANA Private Enterprise Number in the SD-ID `replayguard@<pen>`; default 32473 (the RFC 5612 documentation PEN). */
    enterpriseId?: number;
    /** PROCID; default NILVALUE */
    procId?: string;
    /** Cap on the whole record in UTF-8 bytes (e.g. 2048 or 1180 for UDP); see syslog.ts for what is cut first. */
    maxBytes?: number;
  };
  hec?: { sourcetype?: string; index?: string; source?: string };
  leef?: {
    /** LEEF 2.0 delimiter: one character, or its hex form `x5E` / `0x5E` (1-4 hex digits); default `^`. */
    delimiter?: string;
  };
  bulk?: {
    /** target data stream or index; default `logs-replayguard.alerts-default` */
    index?: string;
    /** `create` (default; required by data streams) or `index` (plain index: latest incident state wins) */
    action?: 'create' | 'index';
  };
  /** Epoch-ms clock, used only when an incident carries no parseable time. Fix it in tests. */
  clock?: () => number;
}

export interface ResolvedOptions {
  vendor: string;
  product: string;
  version: string;
  hostname: string | undefined;
  appName: string;
  facility: number;
  enterpriseId: number;
  procId: string | undefined;
  syslogMaxBytes: number | undefined;
  hecSourcetype: string;
  hecIndex: string | undefined;
  hecSource: string;
  /** the LEEF 2.0 delimiter character and how the header spells it */
  leefDelimiter: string;
  leefDelimiterField: string;
  bulkIndex: string;
  bulkAction: 'create' | 'index';
  clock: () => number;
}

export class FormatterOptionsError extends Error {
  readonly code = 'FORMATTER_OPTIONS_INVALID';
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'FormatterOptionsError';
  }
}

export const DEFAULT_LEEF_DELIMITER = '^';

/**
 * Parses a LEEF 2.0 delimiter spec and says how the header should spell it. Printable ASCII is written as
 * itself (as IBM's examples do); anything else, and `\`, in hex, which no parser can misread.
 * Refused: characters that would make the record ambiguous (`=`, `|`, space, CR, LF, letters, digits).
 */
export function parseLeefDelimiter(spec: string): { char: string; field: string } {
  let code: number | undefined;
  const hex = /^(?:0[xX]|[xX])([0-9a-fA-F]{1,4})$/.exec(spec);
  if (hex?.[1] !== undefined) code = parseInt(hex[1], 16);
  else if (spec.length === 1) code = spec.charCodeAt(0);
  if (code === undefined) {
    throw new FormatterOptionsError('LEEF delimiter must be one character or x/0x followed by 1-4 hex digits', 'leef.delimiter');
  }
  const char = String.fromCharCode(code);
  if (code === 0 || (code >= 0xd800 && code <= 0xdfff) || /[=| \r\n0-9A-Za-z]/.test(char)) {
    throw new FormatterOptionsError(`LEEF delimiter ${JSON.stringify(char)} would make records ambiguous`, 'leef.delimiter');
  }
  // `\` in the header would read as the escape of the pipe that ends it, so it too goes in hex.
  const field = code >= 0x21 && code <= 0x7e && char !== '\\' ? char : 'x' + code.toString(16).toUpperCase().padStart(2, '0');
  return { char, field };
}

function facilityNumber(value: SyslogFacilityName | number | undefined): number {
  if (value === undefined) return SYSLOG_FACILITIES.local0;
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= 23) return value;
  } else if (Object.hasOwn(SYSLOG_FACILITIES, value)) {
    return SYSLOG_FACILITIES[value];
  }
  throw new FormatterOptionsError(`syslog facility must be 0..23 or one of ${Object.keys(SYSLOG_FACILITIES).join(', ')}`, 'syslog.facility');
}

// Keyed by the options object: sinks format thousands of incidents with one options object, and options are
// configuration, so mutating one after first use is not supported (pass a new object instead).
const cache = new WeakMap<FormatterOptions, ResolvedOptions>();

export function resolveOptions(opts: FormatterOptions = {}): ResolvedOptions {
  const hit = cache.get(opts);
  if (hit) return hit;
  const appName = opts.appName ?? 'replayguard';
  const enterpriseId = opts.syslog?.enterpriseId ?? 32473;
  if (!Number.isSafeInteger(enterpriseId) || enterpriseId < 1) {
    throw new FormatterOptionsError('syslog enterpriseId must be a positive integer (an IANA PEN)', 'syslog.enterpriseId');
  }
  const maxBytes = opts.syslog?.maxBytes;
  if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes < 480)) {
    // RFC 5426: every receiver accepts 480 octets, so a smaller cap can only be a mistake.
    throw new FormatterOptionsError('syslog maxBytes must be an integer >= 480', 'syslog.maxBytes');
  }
  const leef = parseLeefDelimiter(opts.leef?.delimiter ?? DEFAULT_LEEF_DELIMITER);
  const bulkAction = opts.bulk?.action ?? 'create';
  if (bulkAction !== 'create' && bulkAction !== 'index') {
    throw new FormatterOptionsError('bulk action must be create or index', 'bulk.action');
  }
  const resolved: ResolvedOptions = {
    vendor: opts.producer?.vendor ?? 'replayguard',
    product: opts.producer?.product ?? 'replayguard',
    version: opts.producer?.version ?? 'unknown',
    hostname: opts.hostname === '' ? undefined : opts.hostname,
    appName,
    facility: facilityNumber(opts.syslog?.facility),
    enterpriseId,
    procId: opts.syslog?.procId,
    syslogMaxBytes: maxBytes,
    hecSourcetype: opts.hec?.sourcetype ?? 'replayguard:incident',
    hecIndex: opts.hec?.index,
    hecSource: opts.hec?.source ?? appName,
    leefDelimiter: leef.char,
    leefDelimiterField: leef.field,
    bulkIndex: opts.bulk?.index ?? 'logs-replayguard.alerts-default',
    bulkAction,
    clock: opts.clock ?? Date.now,
  };
  cache.set(opts, resolved);
  return resolved;
}

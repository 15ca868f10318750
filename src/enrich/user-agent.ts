// User-Agent → UserAgentInfo. ua-parser-js 1.x knows browsers, OSes and devices but not a single
// script client (curl, python-requests, aws-cli, ... all come back empty), and telling a person's
// browser from a script is the signal replay rules need most (a session born in Chrome and continued
// by python-requests). So a small ordered table of client tokens runs first and ua-parser handles the
// rest. Parsing costs ~25 µs; UA strings repeat massively, so results are cached.
import UAParser from 'ua-parser-js';
import type { UserAgentInfo } from '../events/schema.js';

type Kind =
  /** scripts, CLIs, HTTP libraries: is_script, no device */
  | 'script'
  /** automated real browsers: is_script, OS from ua-parser */
  | 'headless'
  /** crawlers: is_script, device "bot" */
  | 'bot'
  /** the OS HTTP stack of native mobile apps: a person's app, not a script */
  | 'native';

interface ClientRule {
  re: RegExp;
  /** family name; null: take it from the first capture group */
  family: string | null;
  kind: Kind;
}

// Token boundary: start, space, "(", ";" or "[" (CloudTrail wraps some user agents in brackets).
const B = '(?:^|[\\s(;\\[])';
const rule = (re: string, family: string | null, kind: Kind, flags = ''): ClientRule => ({
  re: new RegExp(re, flags),
  family,
  kind,
});

// Order matters: the most specific client first (aws-cli and aiohttp also carry "Python/x",
// Apache-HttpClient carries "Java/x", PowerShell and headless browsers look like Mozilla).
const CLIENTS: readonly ClientRule[] = [
  rule('\\bHeadlessChrome\\/(\\d+)', 'HeadlessChrome', 'headless'),
  rule('\\bPhantomJS\\/(\\d+)', 'PhantomJS', 'headless'),
  // No standard token exists; these only catch tools that announce themselves.
  rule('\\b(?:Selenium|webdriver)(?:\\/(\\d+))?', 'Selenium', 'headless', 'i'),
  rule('\\b(?:Windows)?PowerShell\\/(\\d+)', 'PowerShell', 'script'),
  rule(`${B}aws-cli\\/(\\d+)`, 'aws-cli', 'script'),
  rule(`${B}Boto3\\/(\\d+)`, 'Boto3', 'script'),
  rule(`${B}Botocore\\/(\\d+)`, 'Botocore', 'script'),
  // aws-sdk-go, aws-sdk-go-v2, aws-sdk-java, aws-sdk-js, ... keep their own name, lower-cased.
  rule(`${B}(aws-sdk-[a-z0-9-]+)\\/(\\d+)`, null, 'script', 'i'),
  rule(`${B}curl\\/(\\d+)`, 'curl', 'script', 'i'),
  rule(`${B}Wget\\/(\\d+)`, 'Wget', 'script', 'i'),
  rule('\\bpython-requests\\/(\\d+)', 'python-requests', 'script', 'i'),
  rule('\\bpython-httpx\\/(\\d+)', 'httpx', 'script', 'i'),
  rule('\\baiohttp\\/(\\d+)', 'aiohttp', 'script', 'i'),
  rule('\\bPython-urllib\\/(\\d+)', 'Python-urllib', 'script', 'i'),
  rule(`${B}urllib3\\/(\\d+)`, 'urllib3', 'script', 'i'),
  rule('\\bScrapy\\/(\\d+)', 'Scrapy', 'script'),
  rule('\\bGo-http-client\\/(\\d+)', 'Go-http-client', 'script', 'i'),
  rule('\\bokhttp\\/(\\d+)', 'okhttp', 'script', 'i'),
  rule('\\bApache-HttpClient\\/(\\d+)', 'Apache-HttpClient', 'script', 'i'),
  rule('\\blibwww-perl\\/(\\d+)', 'libwww-perl', 'script', 'i'),
  rule('\\baxios\\/(\\d+)', 'axios', 'script', 'i'),
  rule('\\bnode-fetch(?:\\/(\\d+))?', 'node-fetch', 'script', 'i'),
  rule('^undici(?:\\/(\\d+))?$', 'undici', 'script'),
  // Node's built-in fetch sends exactly "node".
  rule('^node$', 'node', 'script'),
  rule('^got(?:\\/(\\d+))? \\(', 'got', 'script'),
  rule('\\bPostmanRuntime\\/(\\d+)', 'PostmanRuntime', 'script'),
  rule('\\binsomnia\\/(\\d+)', 'Insomnia', 'script', 'i'),
  rule('\\bHTTPie\\/(\\d+)', 'HTTPie', 'script', 'i'),
  rule('\\bGuzzleHttp\\/(\\d+)', 'GuzzleHttp', 'script'),
  rule('\\brest-client\\/(\\d+)', 'rest-client', 'script'),
  rule('^Faraday v(\\d+)', 'Faraday', 'script'),
  rule('\\bJava-http-client\\/(\\d+)', 'Java', 'script'),
  rule(`${B}Java\\/(\\d+)`, 'Java', 'script'),
  rule('^Ruby$', 'Ruby', 'script'),
  rule('^Python\\/(\\d+)', 'Python', 'script', 'i'),
  // Known crawlers, then the crawler convention "(compatible; Name/1.0; +https://...)".
  rule(
    '\\b(Googlebot|bingbot|YandexBot|DuckDuckBot|Baiduspider|Applebot|facebookexternalhit|Twitterbot|Slackbot|' +
      'LinkedInBot|AhrefsBot|SemrushBot|GPTBot|ClaudeBot|CCBot|PetalBot|MJ12bot|DotBot|Bytespider|Amazonbot)' +
      '(?:\\/(\\d+))?',
    null,
    'bot',
    'i',
  ),
  rule('Dalvik\\/(\\d+)', 'Dalvik', 'native'),
  rule('\\bCFNetwork\\/(\\d+)', 'CFNetwork', 'native'),
  // A real browser always sends a platform comment and an engine token; a bare "Mozilla/5.0" is a
  // script that set a "browser-looking" header.
  rule('^Mozilla\\/(\\d+)(?:\\.\\d+)?$', 'Mozilla', 'script'),
];

const GENERIC_BOT = /([A-Za-z][\w.-]*?(?:bot|crawler|spider))(?:\/(\d+))?/i;
const CRAWLER_HINT = /\+https?:\/\/|compatible;.*(?:bot|crawler|spider)/i;
const PRODUCT_TOKEN = /^([A-Za-z][\w.+-]{0,63})\/v?(\d+)/;
const SCRIPT_OS = /(?:^|[\s(;/])(linux|darwin|macos|windows|win32|win64|freebsd)(?=[\s;/#)_.-]|$)/i;
const SCRIPT_OS_NAMES: Record<string, string> = {
  linux: 'Linux',
  darwin: 'Mac OS',
  macos: 'Mac OS',
  windows: 'Windows',
  win32: 'Windows',
  win64: 'Windows',
  freebsd: 'FreeBSD',
};
const HANDHELD_OS = new Set(['Android', 'iOS', 'HarmonyOS', 'Windows Phone', 'KaiOS', 'BlackBerry', 'Tizen']);
// ua-parser-js spells a few families differently from the names rules and analysts use.
const BROWSER_NAMES: Record<string, string> = { 'Chrome Headless': 'HeadlessChrome' };

/**
 * A missing, empty or "-" user agent: "unknown", and deliberately NOT is_script. Many sources never
 * carry the UA for some event types (IdP system logs for token refreshes, CloudTrail for service
 * calls, log shippers that drop the field or write "-"), so absence says more about the pipeline than
 * about the client. Flagging it as a script would make every such event look like a browser → script
 * switch; rules that care about a vanishing UA can test `browser === "unknown"` explicitly.
 */
export const UNKNOWN_UA: UserAgentInfo = Object.freeze({
  browser: 'unknown',
  os: 'unknown',
  device: 'unknown',
  is_script: false,
});

const uaParser = new UAParser();

/** Uncached parse; prefer a UserAgentParser instance on the hot path. */
export function parseUserAgent(userAgent: string | undefined): UserAgentInfo {
  const ua = userAgent?.trim() ?? '';
  if (ua === '' || ua === '-') return UNKNOWN_UA;

  for (const c of CLIENTS) {
    const m = c.re.exec(ua);
    if (!m) continue;
    // family null: the name is the first capture (aws-sdk-*, crawler names), the major the second.
    if (c.family !== null) return clientInfo(ua, c.family, m[1], c.kind);
    const name = m[1] ?? 'unknown';
    return clientInfo(ua, /^aws-sdk-/i.test(name) ? name.toLowerCase() : name, m[2], c.kind);
  }

  if (CRAWLER_HINT.test(ua)) {
    const m = GENERIC_BOT.exec(ua);
    if (m?.[1]) return clientInfo(ua, m[1], m[2], 'bot');
  }

  const r = uaParser.setUA(ua).getResult();
  const name = r.browser.name;
  let browser = name ? (BROWSER_NAMES[name] ?? name) : undefined;
  let major = r.browser.major;
  if (!browser) {
    // Not a browser ua-parser knows: an app or tool announcing itself as "Name/1.2". Its name is
    // a stable family for "did the client change" rules, but it is not presumed to be a script.
    const p = ua.startsWith('Mozilla/') ? null : PRODUCT_TOKEN.exec(ua);
    browser = p?.[1] ?? 'unknown';
    major = p?.[2];
  }
  const os = r.os.name ?? 'unknown';
  const info: UserAgentInfo = { browser, os, device: deviceOf(r.device.type, os), is_script: false };
  if (major) info.browser_major = major;
  return info;
}

function clientInfo(ua: string, family: string, major: string | undefined, kind: Kind): UserAgentInfo {
  let os: string;
  if (kind === 'script') {
    const m = SCRIPT_OS.exec(ua);
    os = (m?.[1] && SCRIPT_OS_NAMES[m[1].toLowerCase()]) || 'unknown';
  } else {
    os = uaParser.setUA(ua).getResult().os.name ?? 'unknown';
  }
  const device = kind === 'bot' ? 'bot' : kind === 'native' ? deviceOf(uaParser.getDevice().type, os) : 'unknown';
  const info: UserAgentInfo = { browser: family, os, device, is_script: kind !== 'native' };
  if (major) info.browser_major = major;
  return info;
}

function deviceOf(type: string | undefined, os: string): string {
  // ua-parser-js: mobile, tablet, console, smarttv, wearable, embedded, xr.
  if (type) return type;
  if (os === 'unknown') return 'unknown';
  // Android tablets and iPads in desktop mode are caught by ua-parser when they say so; a handheld
  // OS without a device type is still far more likely a phone than a desktop.
  return HANDHELD_OS.has(os) ? 'mobile' : 'desktop';
}

export interface UserAgentParserStats {
  hits: number;
  misses: number;
  size: number;
  capacity: number;
}

/**
 * Parses with a bounded cache. Two generations (hashlru style): hits are served from the current
 * Map or promoted from the previous one; when the current one fills up it becomes the previous and
 * the oldest generation is dropped whole. That is LRU-like at the cost of one Map.get on a hit,
 * with no per-hit reordering, and never holds more than `capacity` entries.
 * Cached results are frozen and shared between events: do not mutate `event.ua`.
 */
export class UserAgentParser {
  readonly capacity: number;
  private readonly generation: number;
  private current = new Map<string, UserAgentInfo>();
  private previous = new Map<string, UserAgentInfo>();
  private hits = 0;
  private misses = 0;

  /** `capacity` 0 disables caching. */
  constructor(capacity = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError('uaCacheSize must be a non-negative integer');
    this.capacity = capacity;
    this.generation = Math.max(1, Math.floor(capacity / 2));
  }

  parse(userAgent: string | undefined): UserAgentInfo {
    if (userAgent === undefined || userAgent === '') return UNKNOWN_UA;
    if (this.capacity === 0) {
      this.misses++;
      return Object.freeze(parseUserAgent(userAgent));
    }
    let info = this.current.get(userAgent);
    if (info !== undefined) {
      this.hits++;
      return info;
    }
    info = this.previous.get(userAgent);
    if (info !== undefined) {
      this.hits++;
    } else {
      this.misses++;
      info = Object.freeze(parseUserAgent(userAgent));
    }
    this.remember(userAgent, info);
    return info;
  }

  stats(): UserAgentParserStats {
    return { hits: this.hits, misses: this.misses, size: this.current.size + this.previous.size, capacity: this.capacity };
  }

  private remember(key: string, info: UserAgentInfo): void {
    if (this.current.size >= this.generation) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, info);
    // With an odd capacity of 1 there is no room for two generations.
    if (this.capacity === 1) this.previous.clear();
  }
}

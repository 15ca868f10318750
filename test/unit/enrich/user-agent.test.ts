import { describe, it, expect } from 'vitest';
import type { UserAgentInfo } from '../../../src/events/schema.js';
import { UNKNOWN_UA, UserAgentParser, parseUserAgent } from '../../../src/enrich/user-agent.js';

type Case = [label: string, ua: string | undefined, expected: Partial<UserAgentInfo>];

const BROWSERS: Case[] = [
  [
    'Chrome on Windows',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    { browser: 'Chrome', browser_major: '124', os: 'Windows', device: 'desktop', is_script: false },
  ],
  [
    'Safari on iPhone',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    { browser: 'Mobile Safari', browser_major: '17', os: 'iOS', device: 'mobile', is_script: false },
  ],
  [
    'Safari on iPad',
    'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    { browser: 'Mobile Safari', os: 'iOS', device: 'tablet', is_script: false },
  ],
  [
    'Safari on macOS',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
    { browser: 'Safari', browser_major: '17', os: 'Mac OS', device: 'desktop', is_script: false },
  ],
  [
    'Firefox on Linux',
    'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
    { browser: 'Firefox', browser_major: '125', os: 'Linux', device: 'desktop', is_script: false },
  ],
  [
    'Edge on Windows',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80',
    { browser: 'Edge', browser_major: '124', os: 'Windows', device: 'desktop', is_script: false },
  ],
  [
    'Chrome on Android phone',
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
    { browser: 'Chrome', browser_major: '124', os: 'Android', device: 'mobile', is_script: false },
  ],
  [
    'Chrome on Android tablet',
    'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    { browser: 'Chrome', os: 'Android', device: 'tablet', is_script: false },
  ],
  [
    'Chrome on iOS',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
    { browser: 'Chrome', os: 'iOS', device: 'mobile', is_script: false },
  ],
  [
    'Chrome on ChromeOS',
    'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    { browser: 'Chrome', os: 'Chromium OS', device: 'desktop', is_script: false },
  ],
];

const SCRIPTS: Case[] = [
  ['curl', 'curl/8.5.0', { browser: 'curl', browser_major: '8', os: 'unknown', device: 'unknown', is_script: true }],
  ['Wget', 'Wget/1.21.4', { browser: 'Wget', browser_major: '1', is_script: true }],
  ['python-requests', 'python-requests/2.31.0', { browser: 'python-requests', browser_major: '2', is_script: true }],
  ['Python-urllib', 'Python-urllib/3.11', { browser: 'Python-urllib', browser_major: '3', is_script: true }],
  ['aiohttp (also says Python/)', 'Python/3.11 aiohttp/3.9.5', { browser: 'aiohttp', browser_major: '3', is_script: true }],
  ['Go-http-client', 'Go-http-client/1.1', { browser: 'Go-http-client', browser_major: '1', is_script: true }],
  ['Go-http-client HTTP/2', 'Go-http-client/2.0', { browser: 'Go-http-client', browser_major: '2', is_script: true }],
  ['okhttp', 'okhttp/4.12.0', { browser: 'okhttp', browser_major: '4', is_script: true }],
  ['Java', 'Java/17.0.2', { browser: 'Java', browser_major: '17', is_script: true }],
  ['Apache-HttpClient (also says Java/)', 'Apache-HttpClient/4.5.14 (Java/17.0.10)', { browser: 'Apache-HttpClient', browser_major: '4', is_script: true }],
  ['axios', 'axios/1.6.8', { browser: 'axios', browser_major: '1', is_script: true }],
  ['node-fetch', 'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)', { browser: 'node-fetch', browser_major: '1', is_script: true }],
  ['undici', 'undici', { browser: 'undici', is_script: true }],
  ['Node fetch', 'node', { browser: 'node', is_script: true }],
  ['PostmanRuntime', 'PostmanRuntime/7.37.3', { browser: 'PostmanRuntime', browser_major: '7', is_script: true }],
  [
    'aws-cli',
    'aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64.ubuntu.22 prompt/off command/sts.get-caller-identity',
    { browser: 'aws-cli', browser_major: '2', os: 'Linux', device: 'unknown', is_script: true },
  ],
  [
    'aws-cli in CloudTrail brackets',
    '[aws-cli/2.13.5 Python/3.11.4 Darwin/22.6.0 exe/x86_64 prompt/off command/s3.ls]',
    { browser: 'aws-cli', browser_major: '2', os: 'Mac OS', is_script: true },
  ],
  [
    'Boto3',
    'Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.84',
    { browser: 'Boto3', browser_major: '1', os: 'Linux', is_script: true },
  ],
  ['aws-sdk-go', 'aws-sdk-go/1.51.21 (go1.22.2; linux; amd64)', { browser: 'aws-sdk-go', browser_major: '1', os: 'Linux', is_script: true }],
  ['aws-sdk-go-v2', 'aws-sdk-go-v2/1.26.1 os/windows lang/go#1.22.2 md/GOOS#windows', { browser: 'aws-sdk-go-v2', os: 'Windows', is_script: true }],
  ['aws-sdk-java', 'aws-sdk-java/1.12.700 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS java/17.0.10', { browser: 'aws-sdk-java', is_script: true }],
  ['aws-sdk-js v3', 'aws-sdk-js/3.552.0 ua/2.0 os/linux#5.10 lang/js md/nodejs#20.12.1 api/s3#3.552.0', { browser: 'aws-sdk-js', browser_major: '3', is_script: true }],
  ['libwww-perl', 'libwww-perl/6.72', { browser: 'libwww-perl', browser_major: '6', is_script: true }],
  [
    'Windows PowerShell',
    'Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.4291',
    { browser: 'PowerShell', browser_major: '5', os: 'Windows', is_script: true },
  ],
  ['PowerShell 7', 'Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.22631; en-US) PowerShell/7.4.2', { browser: 'PowerShell', browser_major: '7', os: 'Windows', is_script: true }],
  [
    'HeadlessChrome',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.60 Safari/537.36',
    { browser: 'HeadlessChrome', browser_major: '124', os: 'Linux', device: 'unknown', is_script: true },
  ],
  [
    'PhantomJS',
    'Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1',
    { browser: 'PhantomJS', browser_major: '2', is_script: true },
  ],
  ['bare Mozilla', 'Mozilla/5.0', { browser: 'Mozilla', is_script: true }],
  ['Googlebot', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', { browser: 'Googlebot', browser_major: '2', device: 'bot', is_script: true }],
  ['unlisted crawler', 'Mozilla/5.0 (compatible; FooCrawler/3.1; +https://foo.example/crawler)', { browser: 'FooCrawler', browser_major: '3', device: 'bot', is_script: true }],
];

const OTHERS: Case[] = [
  ['absent', undefined, UNKNOWN_UA],
  ['empty', '', UNKNOWN_UA],
  ['blank', '   ', UNKNOWN_UA],
  ['dash placeholder', '-', UNKNOWN_UA],
  ['Android app stack', 'Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230901.001)', { browser: 'Dalvik', os: 'Android', device: 'mobile', is_script: false }],
  ['iOS app stack', 'MyApp/1.0 CFNetwork/1494.0.7 Darwin/23.4.0', { browser: 'CFNetwork', os: 'iOS', device: 'mobile', is_script: false }],
  ['unknown app', 'AcmeSync/4.2 (build 77)', { browser: 'AcmeSync', browser_major: '4', os: 'unknown', device: 'unknown', is_script: false }],
  ['garbage', '!!!', { browser: 'unknown', os: 'unknown', device: 'unknown', is_script: false }],
];

describe('parseUserAgent', () => {
  it.each([...BROWSERS, ...SCRIPTS, ...OTHERS])('%s', (_label, ua, expected) => {
    const info = parseUserAgent(ua);
    expect(info).toMatchObject(expected);
    if (expected === UNKNOWN_UA) expect(info).toEqual(UNKNOWN_UA);
  });

  it('never calls a real browser a script', () => {
    for (const [, ua] of BROWSERS) expect(parseUserAgent(ua).is_script).toBe(false);
  });

  it('treats an absent user agent as unknown, not as a script', () => {
    expect(parseUserAgent(undefined)).toEqual({ browser: 'unknown', os: 'unknown', device: 'unknown', is_script: false });
  });
});

describe('UserAgentParser cache', () => {
  const chrome = BROWSERS[0]![1]!;

  it('returns the same frozen object for a repeated user agent and counts hits', () => {
    const p = new UserAgentParser(100);
    const a = p.parse(chrome);
    const b = p.parse(chrome);
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(() => {
      (a as { browser: string }).browser = 'x';
    }).toThrow(TypeError);
    expect(p.stats()).toMatchObject({ hits: 1, misses: 1, size: 1, capacity: 100 });
  });

  it('never holds more than its capacity and keeps recently used entries', () => {
    const p = new UserAgentParser(10);
    for (let k = 0; k < 1000; k++) {
      p.parse(`curl/${k}.0`);
      p.parse(chrome); // hot key: must survive every generation flip
      expect(p.stats().size).toBeLessThanOrEqual(10);
    }
    const before = p.stats().misses;
    p.parse(chrome);
    expect(p.stats().misses).toBe(before);
    // An old cold key is gone and gets parsed again, with the same answer.
    expect(p.parse('curl/0.0')).toEqual(parseUserAgent('curl/0.0'));
    expect(p.stats().misses).toBe(before + 1);
  });

  it('works with the cache disabled or tiny', () => {
    const off = new UserAgentParser(0);
    expect(off.parse(chrome)).toEqual(parseUserAgent(chrome));
    expect(off.stats().size).toBe(0);
    const one = new UserAgentParser(1);
    one.parse('curl/1.0');
    one.parse('curl/2.0');
    expect(one.stats().size).toBe(1);
    expect(() => new UserAgentParser(-1)).toThrow(RangeError);
    expect(() => new UserAgentParser(1.5)).toThrow(RangeError);
  });

  it('is fast on repeated user agents', () => {
    const p = new UserAgentParser();
    const uas = [...BROWSERS, ...SCRIPTS].map(([, ua]) => ua!);
    for (const ua of uas) p.parse(ua);
    const n = 200_000;
    const t0 = performance.now();
    for (let k = 0; k < n; k++) p.parse(uas[k % uas.length]);
    const perSecond = n / ((performance.now() - t0) / 1000);
    // Generous floor (a cache hit is a Map.get): catches an accidental re-parse per call (~25 µs).
    expect(perSecond).toBeGreaterThan(500_000);
  });
});

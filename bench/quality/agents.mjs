// User agents of the simulated world: the browsers people use (with the version they are on, which moves
// when the browser updates), the browsers attackers replay with, and the script clients of AiTM kits.

/** Browser versions at the start of the simulation, and after the one update the simulation may apply. */
const V = {
  chrome: [141, 142],
  edge: [141, 142],
  firefox: [144, 145],
  safari: ['18.6', '26.0'],
  ios: ['18_6', '26_0'],
};

/** Templates by device kind; `v` is the index into the version pairs above. */
export const DEVICE_KINDS = {
  'win-chrome': { device: 'laptop', ua: (v) => `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${V.chrome[v]}.0.0.0 Safari/537.36` },
  'win-edge': { device: 'laptop', ua: (v) => `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${V.edge[v]}.0.0.0 Safari/537.36 Edg/${V.edge[v]}.0.0.0` },
  'win-firefox': { device: 'laptop', ua: (v) => `Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:${V.firefox[v]}.0) Gecko/20100101 Firefox/${V.firefox[v]}.0` },
  'mac-safari': { device: 'laptop', ua: (v) => `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${V.safari[v]} Safari/605.1.15` },
  'mac-chrome': { device: 'laptop', ua: (v) => `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${V.chrome[v]}.0.0.0 Safari/537.36` },
  'linux-firefox': { device: 'laptop', ua: (v) => `Mozilla/5.0 (X11; Linux x86_64; rv:${V.firefox[v]}.0) Gecko/20100101 Firefox/${V.firefox[v]}.0` },
  'iphone-safari': { device: 'phone', apple: true, ua: (v) => `Mozilla/5.0 (iPhone; CPU iPhone OS ${V.ios[v]} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${V.safari[v]} Mobile/15E148 Safari/604.1` },
  'iphone-chrome': { device: 'phone', apple: true, ua: (v) => `Mozilla/5.0 (iPhone; CPU iPhone OS ${V.ios[v]} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/${V.chrome[v]}.0.7390.41 Mobile/15E148 Safari/604.1` },
  'android-chrome': { device: 'phone', ua: (v) => `Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${V.chrome[v]}.0.0.0 Mobile Safari/537.36` },
  'ipad-safari': { device: 'tablet', apple: true, ua: (v) => `Mozilla/5.0 (iPad; CPU OS ${V.ios[v]} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${V.safari[v]} Mobile/15E148 Safari/604.1` },
  // A developer's own tools on their laptop, holding their own token: the same clients AiTM kits replay with.
  'cli-python': { device: 'cli', ua: () => 'python-requests/2.32.3' },
  'cli-go': { device: 'cli', ua: () => 'Go-http-client/2.0' },
  'cli-aws': { device: 'cli', ua: () => 'aws-cli/2.22.0 md/awscrt#0.22.0 ua/2.0 os/macos#24.1.0 md/arch#arm64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#sts.get-caller-identity' },
};

/** Share of laptops / phones by kind among the simulated employees. */
export const LAPTOP_MIX = [['win-chrome', 42], ['win-edge', 22], ['mac-safari', 14], ['mac-chrome', 12], ['win-firefox', 7], ['linux-firefox', 3]];
export const PHONE_MIX = [['iphone-safari', 48], ['android-chrome', 40], ['iphone-chrome', 12]];
export const CLI_MIX = [['cli-python', 45], ['cli-go', 30], ['cli-aws', 25]];

/**
 * Browsers infostealer operators replay with (their own machine; Chrome on Windows dominates, and an
 * anti-detect browser often presents a current Chrome): a replay from the same browser family and OS as
 * the victim's is common and must not be assumed away.
 */
export const ATTACKER_BROWSERS = [
  ['win-chrome', 45],
  ['linux-firefox', 15],
  ['win-firefox', 10],
  ['mac-chrome', 10],
  ['win-edge', 10],
  ['android-chrome', 10],
];

/** Script clients AiTM kits and cookie-replay tooling use. */
export const SCRIPT_AGENTS = [
  'python-requests/2.32.3',
  'python-requests/2.31.0',
  'Go-http-client/1.1',
  'Go-http-client/2.0',
  'curl/8.7.1',
  'curl/7.81.0',
  'python-httpx/0.27.0',
  'axios/1.7.7',
];

/** A device a person owns: kind, and the version its browser is on at a time (updates are scheduled). */
export class Device {
  constructor(kind, owner, index) {
    this.kind = kind;
    this.type = DEVICE_KINDS[kind].device;
    this.apple = DEVICE_KINDS[kind].apple === true;
    this.owner = owner;
    this.index = index;
    /** event time at which the browser moved to the next major version (never, by default) */
    this.updateAt = Infinity;
  }

  uaAt(time) {
    return DEVICE_KINDS[this.kind].ua(time >= this.updateAt ? 1 : 0);
  }
}

export function uaOf(kind, version = 1) {
  return DEVICE_KINDS[kind].ua(version);
}

// Run after `npm install` changes the lock file. The registry this project is built against serves only the
// Linux builds of msgpackr-extract (an optional native speed-up of BullMQ's msgpackr), so `npm install`
// leaves the other platforms' entries out of package-lock.json, and `npm ci` then refuses the lock as out of
// sync. This adds those optional, platform-bound entries back; npm skips them on platforms they don't fit.
import { readFileSync, writeFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const parent = lock.packages['node_modules/msgpackr-extract'];
if (parent) {
  for (const name of Object.keys(parent.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key]) continue;
    const m = /msgpackr-extract-(\w+)-(\w+)$/.exec(name);
    if (!m) continue;
    lock.packages[key] = { version: parent.optionalDependencies[name], cpu: [m[2]], license: 'MIT', optional: true, os: [m[1]] };
  }
  const sorted = {};
  for (const k of Object.keys(lock.packages).sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1))) sorted[k] = lock.packages[k];
  lock.packages = sorted;
  writeFileSync('package-lock.json', JSON.stringify(lock, null, 2) + '\n');
}

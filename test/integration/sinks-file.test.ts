// File and stdout sinks, and `replayguard scan --output FORMAT`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { runScan } from '../../src/cli/scan.js';
import { loadEnv } from '../../src/config/env.js';
import { Metrics } from '../../src/observability/metrics.js';
import { parseSinksText } from '../../src/outputs/config.js';
import { createEmitter } from '../../src/outputs/emitter.js';
import { replayStory } from '../fixtures/replay-events.js';
import { makeIncident } from './sinks-receivers.js';

const BIN = fileURLToPath(new URL('../../bin/replayguard.js', import.meta.url));

async function emitterFor(yaml: string, stdout?: PassThrough) {
  const dir = mkdtempSync(join(tmpdir(), 'rg-file-sink-'));
  const config = parseSinksText(yaml, join(dir, 'sinks.yaml'), { env: {}, baseDir: dir, hostname: 'detector01' });
  const metrics = new Metrics();
  const emitter = await createEmitter({ env: loadEnv({}), logger: pino({ level: 'silent' }), metrics, worker: true, config, ...(stdout ? { stdout } : {}) });
  return { dir, emitter, metrics };
}

describe('file sink', () => {
  it('rotates by size, keeps N files, never splits a record and never exceeds the cap', async () => {
    const { dir, emitter } = await emitterFor('sinks:\n  - { name: archive, type: file, path: out/incidents.jsonl, format: ocsf, rotate: { max_bytes: 8192, keep: 2 } }\n');
    const path = join(dir, 'out', 'incidents.jsonl');
    // One change at a time, as they come from the pipeline (the file is written in order).
    for (let i = 1; i <= 40; i++) {
      emitter.onIncident({ incident: makeIncident(i), outcome: 'created' });
      await emitter.idle();
    }
    await emitter.close();
    expect(existsSync(path)).toBe(true);
    expect(existsSync(`${path}.1`)).toBe(true);
    expect(existsSync(`${path}.2`)).toBe(true);
    expect(existsSync(`${path}.3`)).toBe(false);
    const lines: string[] = [];
    for (const f of [`${path}.2`, `${path}.1`, path]) {
      expect(statSync(f).size).toBeLessThanOrEqual(8192);
      const text = readFileSync(f, 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      lines.push(...text.slice(0, -1).split('\n'));
    }
    const uids = lines.map((l) => (JSON.parse(l) as { finding_info: { uid: string } }).finding_info.uid);
    // The kept files hold the newest records, oldest first, none repeated and none missing in between.
    const first = Number(uids[0]!.slice(4));
    expect(uids).toEqual(Array.from({ length: 40 - first + 1 }, (_, k) => makeIncident(first + k).id));
    expect(first).toBeGreaterThan(1);
  });

  it('appends to an existing file and rotates it once it is full', async () => {
    const { dir, emitter } = await emitterFor('sinks:\n  - { name: a, type: file, path: a.log, format: cef, rotate: { max_bytes: 2048, keep: 1 } }\n');
    const path = join(dir, 'a.log');
    writeFileSync(path, 'x'.repeat(2000) + '\n');
    emitter.onIncident({ incident: makeIncident(1), outcome: 'created' });
    await emitter.close();
    expect(readFileSync(`${path}.1`, 'utf8')).toBe('x'.repeat(2000) + '\n');
    expect(readFileSync(path, 'utf8')).toMatch(/^CEF:0\|.*\n$/);
  });
});

describe('stdout sink', () => {
  it('writes one record per line in its format', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    const { emitter, metrics } = await emitterFor('sinks:\n  - { name: console, type: stdout, format: leef2 }\n', out);
    emitter.onIncident({ incident: makeIncident(1), outcome: 'created' });
    emitter.onIncident({ incident: makeIncident(2), outcome: 'updated' });
    await emitter.close();
    const lines = chunks.join('').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/^LEEF:2\.0\|replayguard\|replayguard\|unknown\|session-multi-network-multi-device\|\^\|/);
    expect((await metrics.deliveries.get()).values.find((v) => v.labels.outcome === 'delivered')?.value).toBe(2);
  });
});

describe('scan --output', () => {
  const eventsFile = join(mkdtempSync(join(tmpdir(), 'rg-scan-out-')), 'events.ndjson');
  writeFileSync(eventsFile, replayStory().map((e) => JSON.stringify(e)).join('\n') + '\n');
  // A fixed session key: with a one-off key each run would hash sessions (and so name incidents) differently.
  const env = { RG_LOG_LEVEL: 'silent', RG_SESSION_KEY: 'scan-output-test-key-0123456789abcdef' };

  async function scan(output?: string): Promise<string> {
    const stdout = new PassThrough();
    const chunks: string[] = [];
    stdout.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    await runScan({ files: [eventsFile], store: 'memory', failOnIncident: false, stdout, stderr: new PassThrough(), env, ...(output !== undefined ? { output } : {}) });
    return chunks.join('');
  }

  it('writes incidents in the asked format, one record per line; the default stays the incident JSON', async () => {
    const plain = (await scan()).trim().split('\n');
    expect(plain.length).toBeGreaterThan(0);
    const ids = plain.map((l) => (JSON.parse(l) as { id: string }).id);
    const cef = (await scan('cef')).trim().split('\n');
    expect(cef).toHaveLength(ids.length);
    cef.forEach((l, i) => expect(l).toMatch(new RegExp(`^CEF:0\\|.*externalId=${ids[i]}`)));
    const syslog = (await scan('syslog')).trim().split('\n');
    for (const l of syslog) expect(l).toMatch(/^<1\d\d>1 /);
    const bulk = (await scan('bulk')).split('\n');
    expect(bulk.pop()).toBe('');
    expect(bulk).toHaveLength(ids.length * 2);
    const ecs = (await scan('ecs')).trim().split('\n').map((l) => JSON.parse(l) as { event: { id: string; kind: string } });
    expect(ecs.map((d) => d.event.id)).toEqual(ids);
    expect(await scan('cef')).toBe(await scan('cef')); // deterministic: same file, same bytes
  });

  it('refuses an unknown format before reading anything', async () => {
    await expect(scan('xml')).rejects.toThrow(/--output must be one of jsonl, ecs, ocsf, cef, leef, leef2, hec, syslog, bulk/);
  });

  it('is wired into the command line', () => {
    const r = spawnSync('node', [BIN, 'scan', '--output', 'leef', eventsFile], { env: { PATH: process.env.PATH, RG_LOG_LEVEL: 'silent' }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^LEEF:1\.0\|replayguard\|/);
    const bad = spawnSync('node', [BIN, 'scan', '--output', 'xml', eventsFile], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--output must be one of');
  });
});

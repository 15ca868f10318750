// The installed command, as a user runs it: the compiled bin (built by `npm run build`, which `pretest`
// and `npm ci` run), in child processes.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeOne } from '../../src/events/normalize.js';
import { freePort } from '../helpers/redis-server.js';
import { RAW_SESSIONS, replayStory } from '../fixtures/replay-events.js';

const BIN = join(process.cwd(), 'bin', 'replayguard.js');
const dir = mkdtempSync(join(tmpdir(), 'rg-cli-'));
const eventsFile = join(dir, 'events.ndjson');
writeFileSync(eventsFile, replayStory().map((e) => JSON.stringify(e)).join('\n') + '\n{"broken":\n');
const cleanEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', RG_SESSION_KEY: 'cli-session-key-0123456789abcdef0123', RG_RULES_DIR: 'test/fixtures/e2e-rules' };

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('replayguard CLI', () => {
  it('scan writes one incident per line, a summary on stderr, and exits 1 with --fail-on-incident', () => {
    const r = spawnSync('node', [BIN, 'scan', '--fail-on-incident', eventsFile], { env: cleanEnv, encoding: 'utf8' });
    expect(r.status).toBe(1);
    const incidents = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { rule: { id: string } });
    expect(incidents.map((i) => i.rule.id).sort()).toEqual(['session-multi-network-multi-device', 'session-use-after-logout']);
    expect(r.stderr).toMatch(/events\.ndjson:10: rejected \(invalid_json\)/);
    expect(r.stderr).toMatch(/"events_read":10,"events_accepted":9,"rejected":1/);
    for (const raw of Object.values(RAW_SESSIONS)) expect(r.stdout + r.stderr).not.toContain(raw);
    const plain = spawnSync('node', [BIN, 'scan', eventsFile], { env: cleanEnv, encoding: 'utf8' });
    expect(plain.status).toBe(0);
    expect(plain.stdout).toBe(r.stdout); // deterministic: same file, same bytes
  });

  it('scan reads stdin with -', () => {
    const r = spawnSync('node', [BIN, 'scan', '-'], { env: cleanEnv, encoding: 'utf8', input: replayStory().map((e) => JSON.stringify(e)).join('\n') });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('rules lint reports file:line:column: field and exits 1', () => {
    const rules = mkdtempSync(join(tmpdir(), 'rg-lint-'));
    writeFileSync(join(rules, 'bad.yaml'), 'id: bad-rule\ntitle: Bad\nseverity: high\ntype: use_after_end\ngrase: 10s\n');
    const r = spawnSync('node', [BIN, 'rules', 'lint', rules], { env: cleanEnv, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/bad\.yaml:5:1: grase: unknown key \(did you mean "grace"\?\)/);
    const ok = spawnSync('node', [BIN, 'rules', 'lint', 'rules'], { env: cleanEnv, encoding: 'utf8' });
    expect(ok.status).toBe(0);
  });

  it('serve without REDIS_URL runs embedded on loopback, takes events, and stops on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn('node', [BIN, 'serve'], { env: { ...cleanEnv, PORT: String(port), RG_API_TOKENS: 'cli-api-token-0123456789' } });
    children.push(child);
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    for (let i = 0; i < 100 && !log.includes('EMBEDDED'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(log).toContain(`running EMBEDDED on http://127.0.0.1:${port}`);
    const headers = { authorization: 'Bearer cli-api-token-0123456789', 'content-type': 'application/json' };
    const post = await fetch(`http://127.0.0.1:${port}/v1/events`, { method: 'POST', headers, body: JSON.stringify(replayStory()) });
    expect(post.status).toBe(202);
    const list = (await (await fetch(`http://127.0.0.1:${port}/v1/incidents`, { headers })).json()) as { items: unknown[] };
    expect(list.items).toHaveLength(2);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('serve refuses to start with Redis but without a session key, naming the variable', () => {
    const r = spawnSync('node', [BIN, 'serve'], { env: { PATH: cleanEnv.PATH, REDIS_URL: 'redis://127.0.0.1:1', RG_API_TOKENS: 'cli-api-token-0123456789' }, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('RG_SESSION_KEY is required');
  });
});

describe('responder commands against a running service', () => {
  it('incidents list|show and revoke, with the role enforced', async () => {
    const { startService } = await import('../../src/cli/serve.js');
    const { pino } = await import('pino');
    const service = await startService(
      { api: true, worker: true, env: { PORT: '0', RG_SESSION_KEY: cleanEnv.RG_SESSION_KEY, RG_RULES_DIR: 'test/fixtures/e2e-rules', RG_API_TOKENS: 'ro:read:cli-read-token-0123456789,oncall:respond:cli-respond-token-012345' } },
      pino({ level: 'silent' }),
    );
    try {
      const post = await fetch(`${service.url}/v1/events`, { method: 'POST', headers: { authorization: 'Bearer cli-respond-token-012345', 'content-type': 'application/json' }, body: JSON.stringify(replayStory()) });
      expect(post.status).toBe(403); // respond cannot ingest
      await service.runtime.pipeline.process(replayStory().map((e) => {
        const r = normalizeOne(e, service.runtime.hasher);
        if (!r.ok) throw new Error(r.message);
        return r.event;
      }));
      const env = { ...cleanEnv, RG_URL: service.url!, RG_API_TOKEN: 'cli-read-token-0123456789' };
      const list = await runAsync(['incidents', 'list', '--rule', 'session-use-after-logout'], env);
      expect(list.code).toBe(0);
      const line = list.stdout.trim().split('\n');
      expect(line).toHaveLength(1);
      const id = line[0]!.split(' ')[0]!;
      const show = await runAsync(['incidents', 'show', id], env);
      expect(JSON.parse(show.stdout)).toMatchObject({ id, rule: { id: 'session-use-after-logout' } });
      const session = (JSON.parse(show.stdout) as { session: string }).session;
      const denied = await runAsync(['revoke', session, '--reason', 'confirmed theft'], env);
      expect(denied.code).toBe(1);
      expect(denied.stderr).toContain('HTTP 403');
      const ok = await runAsync(['revoke', session, '--reason', 'confirmed theft', '--tenant', 'acme'], { ...env, RG_API_TOKEN: 'cli-respond-token-012345' });
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ mode: 'manual', initiated_by: 'admin:oncall', session });
    } finally {
      await service.close();
    }
  });
});

function runAsync(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('node', [BIN, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// Hot reload on real files: a file watch swaps the rule set atomically; a bad edit keeps the last good
// version running (quarantine); a deleted file disables its rule; lists reload with the rules.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('rule hot reload', () => {
  it('follows edits, quarantines a broken file, drops a deleted one, and reloads lists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-reload-'));
    cpSync('rules', dir, { recursive: true });
    runtime = await createRuntime({ env: loadEnv({ RG_SESSION_KEY: 'reload-test-key-0123456789abcdef01' }), store: 'memory', logger: pino({ level: 'silent' }), rulesDir: dir, watchRules: true });
    const ids = () => runtime!.rules.rules.map((r) => r.id);
    const severity = (id: string) => runtime!.rules.rules.find((r) => r.id === id)?.severity;
    expect(ids()).toContain('session-client-changed');
    expect(severity('session-client-changed')).toBe('medium');

    const file = join(dir, 'session-client-changed.yaml');
    const original = (await import('node:fs')).readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('severity: medium', 'severity: critical'));
    await until(() => severity('session-client-changed') === 'critical', 'the edited rule');

    writeFileSync(file, original.replace('severity: medium', 'severity: urgent'));
    await sleep(600);
    expect(severity('session-client-changed')).toBe('critical'); // last good version keeps running
    expect(runtime.metrics.ruleLoadErrors.get ? (await runtime.metrics.ruleLoadErrors.get()).values[0]?.value : undefined).toBe(1);

    rmSync(file);
    await until(() => !ids().includes('session-client-changed'), 'the deleted rule to go');
    expect(ids()).toContain('session-multi-network-multi-device');

    expect(runtime.rules.classify({ ip: '192.0.2.10' })).toBe('corporate');
    writeFileSync(join(dir, 'lists', 'corporate-egress.yaml'), 'name: corporate-egress\nclass: corporate\ncidrs: [203.0.113.0/24]\n');
    await until(() => runtime!.rules.classify({ ip: '203.0.113.7' }) === 'corporate', 'the list change');
    expect(runtime.rules.classify({ ip: '192.0.2.10' })).toBeUndefined();
  });

  it('keeps the last good rule set when the folder cannot be read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-reload-'));
    cpSync('rules', dir, { recursive: true });
    runtime = await createRuntime({ env: loadEnv({}), store: 'memory', logger: pino({ level: 'silent' }), rulesDir: dir });
    const before = runtime.rules.rules.length;
    rmSync(dir, { recursive: true });
    await runtime.reloadRules();
    expect(runtime.rules.rules.length).toBe(before);
  });
});

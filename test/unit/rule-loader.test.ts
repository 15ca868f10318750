import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRuleDir, parseRuleText } from '../../src/rules/loader.js';

const GOOD = `id: demo-rule
title: Demo rule
severity: high
mitre: [T1539]
type: distinct_count
window: 30m
threshold:
  all:
    - { field: network, min: 2 }
    - { field: os, min: 2 }
`;

describe('rule loader', () => {
  it('loads a valid rule with defaults and durations in ms', () => {
    const { rule, errors } = parseRuleText(GOOD, 'demo.yaml');
    expect(errors).toEqual([]);
    expect(rule).toMatchObject({ id: 'demo-rule', version: 1, enabled: true, action: 'alert', window: 1_800_000 });
  });

  it('reports an unknown key with file, line and a suggestion', () => {
    const text = GOOD.replace('window: 30m', 'windw: 30m');
    const { rule, errors } = parseRuleText(text, 'rules/demo.yaml');
    expect(rule).toBeUndefined();
    expect(errors).toContainEqual(expect.objectContaining({ file: 'rules/demo.yaml', line: 6, field: 'windw', message: expect.stringContaining('did you mean "window"') }));
  });

  it('points at the offending nested field', () => {
    const text = GOOD.replace('{ field: os, min: 2 }', '{ field: oss, min: 2 }');
    const { errors } = parseRuleText(text, 'x.yaml');
    expect(errors[0]).toMatchObject({ line: 10, field: 'threshold.all.1.field' });
  });

  it('rejects a bad duration, severity and MITRE id with their paths', () => {
    const text = GOOD.replace('window: 30m', 'window: soon').replace('severity: high', 'severity: urgent').replace('[T1539]', '[X1]');
    const fields = parseRuleText(text, 'x.yaml').errors.map((e) => e.field).sort();
    expect(fields).toEqual(['mitre.0', 'severity', 'window']);
  });

  it('reports YAML syntax errors with a position', () => {
    const { errors } = parseRuleText('id: [unclosed\n', 'bad.yaml');
    expect(errors[0]).toMatchObject({ file: 'bad.yaml', message: expect.stringMatching(/^YAML/) });
    expect(errors[0]!.line).toBeGreaterThanOrEqual(1);
  });

  it('keeps the good rules of a folder when one file is bad, and refuses duplicate ids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-rules-'));
    writeFileSync(join(dir, 'a.yaml'), GOOD);
    writeFileSync(join(dir, 'b.yaml'), GOOD.replace('type: distinct_count', 'type: nonsense'));
    writeFileSync(join(dir, 'c.yaml'), GOOD);
    writeFileSync(join(dir, 'a.test.yaml'), 'not: a rule');
    const { rules, errors } = await loadRuleDir(dir);
    expect(rules.map((r) => r.rule.id)).toEqual(['demo-rule']);
    expect(errors).toHaveLength(2);
    expect(errors.find((e) => e.file.endsWith('b.yaml'))).toMatchObject({ field: 'type' });
    expect(errors.find((e) => e.file.endsWith('c.yaml'))?.message).toMatch(/duplicate rule id/);
  });

  it('the shipped rule pack is valid', async () => {
    const { rules, errors } = await loadRuleDir('rules');
    expect(errors).toEqual([]);
    expect(rules.map((r) => r.rule.type).sort()).toEqual(expect.arrayContaining(['distinct_count', 'use_after_end']));
  });
});

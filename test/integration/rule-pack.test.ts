// CI's check of the shipped rule pack: every rule has test cases (one that fires, one that must not), and
// every case passes through the real pipeline (the same runner as `replayguard rules test`).
import { describe, expect, it } from 'vitest';
import { formatReport, runRuleTests } from '../../src/rules/testing.js';

describe('the default rule pack', () => {
  it('passes every rule test case, and no rule is untested', async () => {
    const report = await runRuleTests('rules');
    const failed = report.results.filter((r) => !r.passed);
    expect(report.errors, formatReport(report)).toEqual([]);
    expect(report.untested, formatReport(report)).toEqual([]);
    expect(failed, formatReport(report)).toEqual([]);
    const rules = new Set(report.results.map((r) => r.rule));
    expect(rules.size).toBeGreaterThanOrEqual(10);
  }, 120_000);
});

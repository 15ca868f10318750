// Loads the vendored corpus copies (test/fixtures/corpus, each folder with its LICENSE and SOURCES.md) and
// runs whole files through an adapter, so every test asserts on every record, not a hand-picked sample.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { SKIP_REASONS, type Adapter, type AdapterResult } from '../../../src/events/adapters/index.js';
import { canonicalEventSchema, type CanonicalEventInput } from '../../../src/events/schema.js';

export const CORPUS = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/corpus');

export interface PantherRow {
  source_file: string;
  rule_id: string;
  test_name: string;
  expected_result: boolean;
  has_mocks: boolean;
  log: Record<string, unknown>;
}

export function readJsonLines<T = unknown>(relative: string): T[] {
  return readFileSync(join(CORPUS, relative), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

export function pantherRows(logType: string): PantherRow[] {
  return readJsonLines<PantherRow>(`panther-analysis/by_logtype/${logType}.tests.jsonl`);
}

/** The one row of a Panther rule test, by rule id and test name (fails loudly if the pair is not unique). */
export function pantherLog(rows: PantherRow[], ruleId: string, testName: string): Record<string, unknown> {
  const found = rows.filter((r) => r.rule_id === ruleId && r.test_name === testName);
  expect(found, `${ruleId} / ${testName}`).toHaveLength(1);
  return found[0]!.log;
}

export interface Tally {
  converted: number;
  byType: Record<string, number>;
  skipped: Record<string, number>;
  results: AdapterResult[];
}

/**
 * Converts every record, checks the two invariants the adapters promise (a converted event passes the canonical
 * schema; a skip carries a known reason and a message), and counts outcomes.
 */
export function runAll(adapter: Adapter, records: readonly unknown[], opts?: object): Tally {
  const tally: Tally = { converted: 0, byType: {}, skipped: {}, results: [] };
  records.forEach((record, i) => {
    const result = adapter.convert(record, opts);
    tally.results.push(result);
    if (result.ok) {
      const parsed = canonicalEventSchema.safeParse(result.event);
      expect(parsed.success, `record ${i}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
      tally.converted++;
      tally.byType[result.event.type] = (tally.byType[result.event.type] ?? 0) + 1;
    } else {
      expect(SKIP_REASONS, `record ${i}`).toContain(result.skip);
      expect(result.message.length, `record ${i} has a message`).toBeGreaterThan(0);
      tally.skipped[result.skip] = (tally.skipped[result.skip] ?? 0) + 1;
    }
  });
  return tally;
}

export function converted(result: AdapterResult): CanonicalEventInput {
  if (!result.ok) throw new Error(`expected a conversion, got ${result.skip}: ${result.message}`);
  return result.event;
}

export function skipped(result: AdapterResult): string {
  if (result.ok) throw new Error(`expected a skip, got ${JSON.stringify(result.event)}`);
  return result.skip;
}

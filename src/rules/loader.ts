// Loads rule files from a directory: each file is parsed with positions kept, validated with zod, and its
// errors reported as file:line:column with the field path and, for a misspelt key, the nearest valid one.
// A bad file is reported and left out; every other rule keeps running.
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { ruleSchema, type Rule } from './schema.js';

export interface RuleLoadError {
  file: string;
  line: number;
  column: number;
  /** dotted path of the offending field, '' for the whole file */
  field: string;
  message: string;
}

export interface LoadedRule {
  rule: Rule;
  file: string;
}

export interface RuleSetLoad {
  rules: LoadedRule[];
  errors: RuleLoadError[];
}

export function formatRuleError(e: RuleLoadError): string {
  return `${e.file}:${e.line}:${e.column}: ${e.field ? `${e.field}: ` : ''}${e.message}`;
}

/** Rule files: *.yaml / *.yml directly in the folder, not test cases (*.test.yaml) nor lists/. */
export function isRuleFile(name: string): boolean {
  return /\.ya?ml$/.test(name) && !/\.test\.ya?ml$/.test(name);
}

function levenshtein(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function linePos(lines: LineCounter, offset: number): { line: number; column: number } {
  const p = lines.linePos(offset);
  return { line: p.line, column: p.col };
}

function position(doc: Document, lines: LineCounter, path: readonly PropertyKey[], key?: string): { line: number; column: number } {
  // Walk as deep as the document goes along the path; point at the key itself when one is named.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) {
      if (key !== undefined && depth === path.length && 'items' in node && Array.isArray(node.items)) {
        for (const item of node.items as { key?: unknown }[]) {
          const k = item.key;
          if (isNode(k) && k.range && (k as unknown as { value?: unknown }).value === key) return linePos(lines, k.range[0]);
        }
      }
      return linePos(lines, node.range[0]);
    }
  }
  return { line: 1, column: 1 };
}

function knownKeysAt(value: unknown, path: readonly PropertyKey[]): string[] {
  // The keys the schema accepts where an unknown key was found: the common and type-specific rule keys at
  // the top, the condition keys inside a threshold.
  if (path.length === 0) {
    const type = (value as { type?: unknown } | null)?.type;
    const option = ruleSchema.options.find((o) => o.shape.type.value === type) ?? ruleSchema.options[0];
    return Object.keys(option.shape);
  }
  if (path.includes('threshold')) return ['field', 'min', 'all', 'any'];
  if (path[0] === 'action') return ['type', 'mode'];
  return [];
}

type Issue = z.core.$ZodIssue;

/**
 * A union's error says only "no branch matched". Descend into the branch that got furthest (its deepest
 * issue path) so the message names the actual field: threshold.all.1.field, not threshold.
 */
function resolveUnions(issue: Issue, base: PropertyKey[] = []): Issue[] {
  const path = [...base, ...issue.path];
  if (issue.code !== 'invalid_union' || !('errors' in issue) || issue.errors.length === 0) return [{ ...issue, path }];
  const depth = (issues: Issue[]) => Math.max(...issues.map((i) => i.path.length + (i.code === 'unrecognized_keys' ? 0 : 0.5)));
  let best = issue.errors[0]!;
  for (const branch of issue.errors) if (branch.length > 0 && depth(branch) > depth(best)) best = branch;
  if (best.length === 0) return [{ ...issue, path }];
  return best.flatMap((i) => resolveUnions(i, path));
}

function issuesToErrors(file: string, doc: Document, lines: LineCounter, value: unknown, error: z.ZodError): RuleLoadError[] {
  const out: RuleLoadError[] = [];
  for (const issue of error.issues.flatMap((i) => (i.path[0] === 'threshold' ? resolveUnions(i) : [i]))) {
    const path = issue.path;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const suggestion = nearest(key, knownKeysAt(value, path));
        const pos = position(doc, lines, path, key);
        out.push({ file, ...pos, field: [...path, key].join('.'), message: `unknown key${suggestion ? ` (did you mean "${suggestion}"?)` : ''}` });
      }
      continue;
    }
    let message = issue.message;
    if (issue.code === 'invalid_union' && path.length === 0) message = 'unknown rule type';
    if (issue.code === 'invalid_union' && (issue as { note?: string }).note === 'No matching discriminator') {
      message = `type must be one of: ${ruleSchema.options.map((o) => o.shape.type.value).join(', ')}`;
    }
    const pos = position(doc, lines, path);
    out.push({ file, ...pos, field: path.join('.'), message });
  }
  return out;
}

export function parseRuleText(text: string, file: string): { rule?: Rule; errors: RuleLoadError[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      errors: doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, field: '', message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    };
  }
  const value: unknown = doc.toJS({ maxAliasCount: 50 });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { errors: [{ file, line: 1, column: 1, field: '', message: 'a rule file must hold one YAML mapping' }] };
  }
  const parsed = ruleSchema.safeParse(value);
  if (!parsed.success) {
    return { errors: issuesToErrors(file, doc, lines, value, parsed.error) };
  }
  return { rule: parsed.data, errors: [] };
}

const MAX_RULE_FILE_BYTES = 256 * 1024;

export async function loadRuleDir(dir: string): Promise<RuleSetLoad> {
  const names = (await readdir(dir)).filter(isRuleFile).sort();
  const rules: LoadedRule[] = [];
  const errors: RuleLoadError[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const path = join(dir, name);
    const file = relative(process.cwd(), path) || path;
    const text = await readFile(path, 'utf8');
    if (Buffer.byteLength(text) > MAX_RULE_FILE_BYTES) {
      errors.push({ file, line: 1, column: 1, field: '', message: `rule file is larger than ${MAX_RULE_FILE_BYTES} bytes` });
      continue;
    }
    const result = parseRuleText(text, file);
    errors.push(...result.errors);
    if (!result.rule) continue;
    const other = seen.get(result.rule.id);
    if (other !== undefined) {
      errors.push({ file, line: 1, column: 1, field: 'id', message: `duplicate rule id "${result.rule.id}" (also in ${other})` });
      continue;
    }
    seen.set(result.rule.id, file);
    if (result.rule.enabled) rules.push({ rule: result.rule, file });
  }
  return { rules, errors };
}

// Loads rule files from a directory: each file is parsed with positions kept and validated with zod; its
// errors name file:line:column and field, with the nearest valid key for a misspelt one. A bad file is
// reported and left out; every other rule keeps running. On a reload, a file that turned bad keeps its
// last good version running (quarantine) and a deleted file's rule is gone.
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadListDir, NetworkLists } from './lists.js';
import { LOCAL_EXCEPTIONS_FILE, loadLocalExceptions } from './local-exceptions.js';
import { knownRuleKeys, RULE_TYPES, ruleSchema, type Rule } from './schema.js';
import { parseYamlWithPositions, type FileError } from './yaml.js';

export { nearest } from './yaml.js';

export type RuleLoadError = FileError;

export interface LoadedRule {
  rule: Rule;
  file: string;
}

export interface RuleSetLoad {
  rules: LoadedRule[];
  errors: RuleLoadError[];
  /** problems that do not stop a rule: expired exceptions, rules without test cases */
  warnings: RuleLoadError[];
  lists: NetworkLists;
  /** files whose new version was bad, so their last good version is still running */
  quarantined: string[];
}

export function formatRuleError(e: RuleLoadError): string {
  return `${e.file}:${e.line}:${e.column}: ${e.field ? `${e.field}: ` : ''}${e.message}`;
}

/** Rule files: *.yaml / *.yml directly in the folder, not test cases (*.test.yaml) nor the local exceptions. */
export function isRuleFile(name: string): boolean {
  return /\.ya?ml$/.test(name) && !/\.test\.ya?ml$/.test(name) && name !== LOCAL_EXCEPTIONS_FILE;
}

export function parseRuleText(text: string, file: string): { rule?: Rule; errors: RuleLoadError[]; warnings: RuleLoadError[] } {
  const parsed = parseYamlWithPositions(text, file, ruleSchema, {
    knownKeys: knownRuleKeys,
    discriminatorMessage: `type must be one of: ${RULE_TYPES.join(', ')}`,
  });
  if (!parsed.value) {
    if (parsed.errors.length === 0) return { errors: [{ file, line: 1, column: 1, field: '', message: 'a rule file must hold one YAML mapping' }], warnings: [] };
    return { errors: parsed.errors, warnings: [] };
  }
  const warnings: RuleLoadError[] = [];
  parsed.value.exceptions.forEach((e, i) => {
    if (e.expires !== undefined && e.expires < Date.now()) {
      warnings.push({ file, ...parsed.position(['exceptions', i, 'expires']), field: `exceptions.${i}.expires`, message: `exception expired on ${new Date(e.expires).toISOString().slice(0, 10)} and no longer applies` });
    }
  });
  return { rule: parsed.value, errors: [], warnings };
}

const MAX_RULE_FILE_BYTES = 256 * 1024;

export async function loadRuleDir(dir: string, previous?: readonly LoadedRule[]): Promise<RuleSetLoad> {
  const names = (await readdir(dir)).filter(isRuleFile).sort();
  const rules: LoadedRule[] = [];
  const errors: RuleLoadError[] = [];
  const warnings: RuleLoadError[] = [];
  const quarantined: string[] = [];
  const seen = new Map<string, string>();
  const lastGood = new Map((previous ?? []).map((r) => [r.file, r]));
  const { lists, errors: listErrors } = await loadListDir(join(dir, 'lists'));
  errors.push(...listErrors);
  const local = await loadLocalExceptions(dir);
  errors.push(...local.errors);
  const listNames = new Set(lists.map((l) => l.name));

  for (const name of names) {
    const path = join(dir, name);
    const file = relative(process.cwd(), path) || path;
    const text = await readFile(path, 'utf8');
    let result: ReturnType<typeof parseRuleText>;
    if (Buffer.byteLength(text) > MAX_RULE_FILE_BYTES) {
      result = { errors: [{ file, line: 1, column: 1, field: '', message: `rule file is larger than ${MAX_RULE_FILE_BYTES} bytes` }], warnings: [] };
    } else {
      result = parseRuleText(text, file);
    }
    if (result.rule) {
      // Exceptions responders added at run time join the rule's own.
      const extra = local.byRule.get(result.rule.id);
      if (extra) result.rule.exceptions = [...result.rule.exceptions, ...extra];
      result.rule.exceptions.forEach((e, i) => {
        if (e.list !== undefined && !listNames.has(e.list)) {
          result.errors.push({ file, line: 1, column: 1, field: `exceptions.${i}.list`, message: `no list named "${e.list}" in ${join(dir, 'lists')}` });
        }
      });
      if (result.errors.length > 0) delete result.rule;
    }
    errors.push(...result.errors);
    warnings.push(...result.warnings);
    let loaded: LoadedRule | undefined = result.rule ? { rule: result.rule, file } : undefined;
    if (!loaded) {
      const old = lastGood.get(file);
      if (!old) continue;
      loaded = old;
      quarantined.push(file);
    }
    const other = seen.get(loaded.rule.id);
    if (other !== undefined) {
      errors.push({ file, line: 1, column: 1, field: 'id', message: `duplicate rule id "${loaded.rule.id}" (also in ${other})` });
      continue;
    }
    seen.set(loaded.rule.id, file);
    if (loaded.rule.enabled) rules.push(loaded);
  }
  return { rules, errors, warnings, lists: new NetworkLists(lists), quarantined };
}

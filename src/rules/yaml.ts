// YAML with positions + zod: every validation error is reported with file, line, column and the dotted
// field path, and an unknown key gets the nearest valid key as a suggestion. Used for rules, lists and
// rule test cases.
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';

export interface FileError {
  file: string;
  line: number;
  column: number;
  /** dotted path of the offending field, '' for the whole file */
  field: string;
  message: string;
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment): "tpye" is 1 from "type". */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

type Pos = { line: number; column: number };

function positionOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[], key?: string): Pos {
  const at = (offset: number): Pos => {
    const p = lines.linePos(offset);
    return { line: p.line, column: p.col };
  };
  // Walk as deep as the document goes along the path; point at the key itself when one is named.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) {
      if (key !== undefined && depth === path.length && 'items' in node && Array.isArray(node.items)) {
        for (const item of node.items as { key?: unknown }[]) {
          const k = item.key;
          if (isNode(k) && k.range && (k as unknown as { value?: unknown }).value === key) return at(k.range[0]);
        }
      }
      return at(node.range[0]);
    }
  }
  return { line: 1, column: 1 };
}

type Issue = z.core.$ZodIssue;

/**
 * A union's error says only "no branch matched". Descend into the branch that got furthest (its deepest
 * issue path) so the message names the actual field, e.g. threshold.all.1.field rather than threshold.
 */
function resolveUnions(issue: Issue, base: PropertyKey[] = []): Issue[] {
  const path = [...base, ...issue.path];
  if (issue.code !== 'invalid_union' || !('errors' in issue) || issue.errors.length === 0) return [{ ...issue, path }];
  if ((issue as { note?: string }).note === 'No matching discriminator') return [{ ...issue, path }];
  const depth = (issues: Issue[]) => Math.max(...issues.map((i) => i.path.length + (i.code === 'unrecognized_keys' ? 0 : 0.5)));
  let best = issue.errors[0]!;
  for (const branch of issue.errors) if (branch.length > 0 && depth(branch) > depth(best)) best = branch;
  if (best.length === 0) return [{ ...issue, path }];
  return best.flatMap((i) => resolveUnions(i, path));
}

export interface ParseOptions {
  /** keys the schema accepts at a path, for "did you mean" */
  knownKeys?: (value: unknown, path: readonly PropertyKey[]) => readonly string[];
  /** a better message for a discriminated union with no matching tag */
  discriminatorMessage?: string;
}

export interface Parsed<T> {
  value?: T;
  errors: FileError[];
  /** position of a path in the document, for errors found after validation */
  position(path: readonly PropertyKey[]): Pos;
}

export function parseYamlWithPositions<S extends z.ZodType>(text: string, file: string, schema: S, opts: ParseOptions = {}): Parsed<z.output<S>> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const position = (path: readonly PropertyKey[]) => positionOf(doc, lines, path);
  if (doc.errors.length > 0) {
    return {
      position,
      errors: doc.errors.map((e) => {
        const p = lines.linePos(e.pos[0]);
        return { file, line: p.line, column: p.col, field: '', message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    };
  }
  let value: unknown;
  try {
    // Aliases are capped: a "billion laughs" file must not take the loader down.
    value = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    return { position, errors: [{ file, line: 1, column: 1, field: '', message: `YAML: ${(err as Error).message}` }] };
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return { value: parsed.data, errors: [], position };
  const errors: FileError[] = [];
  for (const issue of parsed.error.issues.flatMap((i) => resolveUnions(i))) {
    const path = issue.path;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const suggestion = nearest(key, opts.knownKeys?.(value, path) ?? []);
        errors.push({ file, ...positionOf(doc, lines, path, key), field: [...path, key].join('.'), message: `unknown key${suggestion ? ` (did you mean "${suggestion}"?)` : ''}` });
      }
      continue;
    }
    let message = issue.message;
    if (issue.code === 'invalid_union' && (issue as { note?: string }).note === 'No matching discriminator' && opts.discriminatorMessage) message = opts.discriminatorMessage;
    errors.push({ file, ...position(path), field: path.join('.'), message });
  }
  return { errors, position };
}

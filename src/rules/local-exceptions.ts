// Exceptions added at run time (a responder marking an incident a false positive, with an expiry) live in
// one file beside the rules, `exceptions.local.yaml`, as a list of {rule, ...exception}. The loader merges
// them into their rules; the rule-folder watch reloads them everywhere the folder is shared. A file, not
// Redis: it is reviewable, versionable, and the same mechanism as hand-written exceptions.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { exceptionSchema, type RuleException } from './schema.js';
import { parseYamlWithPositions, type FileError } from './yaml.js';

export const LOCAL_EXCEPTIONS_FILE = 'exceptions.local.yaml';

const fileSchema = z.strictObject({
  exceptions: z.array(z.object({ rule: z.string().min(1) }).passthrough()).default([]),
});

export async function loadLocalExceptions(dir: string): Promise<{ byRule: Map<string, RuleException[]>; errors: FileError[] }> {
  const path = join(dir, LOCAL_EXCEPTIONS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { byRule: new Map(), errors: [] };
    throw err;
  }
  const parsed = parseYamlWithPositions(text, path, fileSchema);
  const byRule = new Map<string, RuleException[]>();
  if (!parsed.value) return { byRule, errors: parsed.errors };
  const errors: FileError[] = [];
  parsed.value.exceptions.forEach((entry, i) => {
    const { rule, ...rest } = entry as { rule: string } & Record<string, unknown>;
    const x = exceptionSchema.safeParse(rest);
    if (!x.success) {
      errors.push({ file: path, ...parsed.position(['exceptions', i]), field: `exceptions.${i}`, message: x.error.issues[0]?.message ?? 'invalid exception' });
      return;
    }
    byRule.set(rule, [...(byRule.get(rule) ?? []), x.data]);
  });
  return { byRule, errors };
}

export interface ExceptionWriter {
  add(rule: string, exception: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** Appends to the file atomically (write a temp file, rename), one writer at a time in this process. */
export function localExceptionWriter(dir: string): ExceptionWriter {
  let chain = Promise.resolve();
  return {
    add(rule, exception) {
      const entry: Record<string, unknown> = { rule, ...exception };
      if (typeof entry.expires === 'number') entry.expires = new Date(entry.expires).toISOString();
      const run = chain.then(async () => {
        const path = join(dir, LOCAL_EXCEPTIONS_FILE);
        let list: unknown[] = [];
        try {
          const current = fileSchema.parse((await import('yaml')).parse(await readFile(path, 'utf8')) ?? {});
          list = current.exceptions;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
        list.push(entry);
        const tmp = `${path}.${process.pid}.tmp`;
        await writeFile(tmp, `# Exceptions added by responders (replayguard API). Reviewed like any rule change.\n${stringify({ exceptions: list })}`);
        await rename(tmp, path);
        return entry;
      });
      chain = run.then(() => undefined, () => undefined);
      return run;
    },
  };
}

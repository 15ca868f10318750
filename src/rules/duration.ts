// Durations in rule files: "30s", "10m", "2h", "7d", "1h30m" (or a bare number of seconds).
import { z } from 'zod';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  // One or more parts, largest first: "30s", "1h30m", "10m20s".
  const text = value.trim();
  if (!/^(\d+(?:\.\d+)?\s*(ms|s|m|h|d)\s*)+$/.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return Math.round(total);
}

/** A signed offset such as "-10d" or "+5m" (rule test cases place events relative to a start time). */
export function parseOffset(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value * 1000 : undefined;
  const t = value.trim();
  const sign = t.startsWith('-') ? -1 : 1;
  const ms = parseDuration(t.replace(/^[+-]/, ''));
  return ms === undefined ? undefined : sign * ms;
}

/** A zod schema that turns a duration into milliseconds. */
export const durationMs = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 30s, 10m, 2h or 7d' });
    return z.NEVER;
  }
  return ms;
});

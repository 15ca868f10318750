// Loads the Lua scripts from their files once, under a versioned command name (BullMQ's layout): a
// script's file name is `<name>-<numberOfKeys>.lua` and its header documents KEYS, ARGV and the reply.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Redis, Cluster } from 'ioredis';

const SCRIPTS_DIR = fileURLToPath(new URL('./scripts/', import.meta.url));
const VERSION = 'v2';

interface ScriptFile {
  name: string;
  numberOfKeys: number;
  lua: string;
}

let cached: ScriptFile[] | undefined;

/** Helpers shared by scripts live in `scripts/includes/<name>.lua`, pulled in by a `--- @include "<name>"` line. */
function withIncludes(lua: string): string {
  return lua.replace(/^--- @include "([\w-]+)"$/gm, (_, name: string) => readFileSync(`${SCRIPTS_DIR}includes/${name}.lua`, 'utf8'));
}

function scriptFiles(): ScriptFile[] {
  cached ??= readdirSync(SCRIPTS_DIR)
    .filter((f) => f.endsWith('.lua'))
    .map((file) => {
      const m = /^(.+)-(\d+)\.lua$/.exec(file);
      if (!m) throw new Error(`Lua script ${file} must be named <name>-<numberOfKeys>.lua`);
      return { name: m[1]!, numberOfKeys: Number(m[2]), lua: withIncludes(readFileSync(SCRIPTS_DIR + file, 'utf8')) };
    });
  return cached;
}

/** The command name a script is defined under, e.g. rg_observe_v1. */
export function commandName(script: string): string {
  return `rg_${script.replace(/-/g, '_')}_${VERSION}`;
}

export function defineScripts(redis: Redis | Cluster): void {
  for (const s of scriptFiles()) {
    const name = commandName(s.name);
    if (typeof (redis as unknown as Record<string, unknown>)[name] === 'function') continue;
    redis.defineCommand(name, { numberOfKeys: s.numberOfKeys, lua: s.lua });
  }
}

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/** Calls a defined script on a client or pipeline; the one place the untyped ioredis command is touched. */
export function callScript(target: Redis | Cluster | ReturnType<Redis['pipeline']>, script: string, args: (string | number)[]): Promise<unknown> {
  const fn = (target as unknown as Record<string, ScriptFn>)[commandName(script)];
  if (typeof fn !== 'function') throw new Error(`Lua script ${script} is not defined on this connection`);
  return fn.apply(target, args);
}

/**
 * Runs one script many times in one round trip, replies in order. A single Redis takes one explicit
 * pipeline; a cluster cannot (a pipeline must stay on one slot), so calls are issued together and the
 * client's auto-pipelining batches them per node. Either way, calls for one key run in the order given.
 */
export async function runScripts(
  redis: Redis | Cluster, script: string, argsList: readonly (string | number)[][], before: readonly (string | number)[][] = [],
): Promise<unknown[]> {
  if (argsList.length === 0) return [];
  // Plain commands (e.g. SETs) that must be in Redis before any of the calls runs: same pipeline, ahead of them.
  if ((redis as Cluster).isCluster) {
    if (before.length > 0) await Promise.all(before.map(([cmd, ...args]) => (redis as Cluster).call(String(cmd), ...args)));
    return Promise.all(argsList.map((args) => callScript(redis, script, args)));
  }
  const pipeline = (redis as Redis).pipeline();
  for (const [cmd, ...args] of before) void pipeline.call(String(cmd), ...args);
  for (const args of argsList) void callScript(pipeline, script, args);
  const results = (await pipeline.exec()) ?? [];
  return results.slice(before.length).map(([err, reply]) => {
    if (err) throw err;
    return reply;
  });
}

// Loads the Lua scripts from their files once, under a versioned command name (BullMQ's layout): a
// script's file name is `<name>-<numberOfKeys>.lua` and its header documents KEYS, ARGV and the reply.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, type Redis, type Cluster } from 'ioredis';

const SCRIPTS_DIR = fileURLToPath(new URL('./scripts/', import.meta.url));
const VERSION = 'v2';

interface ScriptFile {
  name: string;
  numberOfKeys: number;
  lua: string;
  /** its batch form (batchLua) and that text's SHA-1, the EVALSHA name Redis knows it by; none without keys */
  batch?: { lua: string; sha: string };
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
      const script: ScriptFile = { name: m[1]!, numberOfKeys: Number(m[2]), lua: withIncludes(readFileSync(SCRIPTS_DIR + file, 'utf8')) };
      if (script.numberOfKeys > 0) {
        const lua = batchLua(script);
        script.batch = { lua, sha: createHash('sha1').update(lua).digest('hex') };
      }
      return script;
    });
  return cached;
}

function scriptFile(name: string): ScriptFile {
  const s = scriptFiles().find((f) => f.name === name);
  if (!s) throw new Error(`no Lua script named ${name}`);
  return s;
}

/** The command name a script is defined under, e.g. rg_observe_v1. */
export function commandName(script: string): string {
  return `rg_${script.replace(/-/g, '_')}_${VERSION}`;
}

/**
 * Every script also runs in batches: its body, unchanged, becomes a function of (KEYS, ARGV) that one call applies
 * to many events in order, so a batch of N events costs Redis one script call and the client one command instead
 * of N of each (the per-call costs, not the script's work, were most of both). Keys are declared as usual; a batch
 * call's keys lie in many slots, so it is only used on a single Redis (see runScripts).
 *   KEYS: the calls' keys, numberOfKeys per call, in call order
 *   ARGV: for each call, how many arguments it has, then those arguments
 *   reply: the calls' replies, in order
 */
function batchLua(s: Pick<ScriptFile, 'lua' | 'numberOfKeys'>): string {
  return `local function one(KEYS, ARGV)\n${s.lua}\nend
local out, pos, nk = {}, 1, ${s.numberOfKeys}
for i = 0, #KEYS / nk - 1 do
  local argc = tonumber(ARGV[pos])
  out[i + 1] = one({ unpack(KEYS, i * nk + 1, i * nk + nk) }, { unpack(ARGV, pos + 1, pos + argc) })
  pos = pos + argc + 1
end
return out
`;
}

export function defineScripts(redis: Redis | Cluster): void {
  for (const s of scriptFiles()) {
    const name = commandName(s.name);
    if (typeof (redis as unknown as Record<string, unknown>)[name] === 'function') continue;
    redis.defineCommand(name, { numberOfKeys: s.numberOfKeys, lua: s.lua });
    // numberOfKeys left out: the caller gives the count first (it varies with the batch).
    if (s.batch) redis.defineCommand(batchName(s.name), { lua: s.batch.lua });
  }
}

function batchName(script: string): string {
  return `${commandName(script)}_batch`;
}

const CRLF = 0x0a0d; // "\r\n" as a little-endian uint16

function writeDecimal(buf: Buffer, pos: number, n: number): number {
  if (n < 10) {
    buf[pos] = 48 + n;
    return pos + 1;
  }
  return pos + buf.write(String(n), pos, 'latin1');
}

function decimalLength(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : String(n).length;
}

/**
 * EVALSHA of a batch call, its RESP frame written once into one buffer. ioredis builds a frame by string
 * concatenation (a rope of several nodes per argument, then flattened and encoded): a few KB of garbage per event
 * on the worker's hottest path. Arguments are strings or integers.
 */
class PackedEvalsha extends Command {
  constructor(args: (string | number)[]) {
    super('evalsha', [], { replyEncoding: 'utf8' });
    this.args = args;
  }

  override toWritable(): Buffer {
    const args = this.args as (string | number)[];
    const lengths = new Array<number>(args.length);
    let size = 1 + decimalLength(args.length + 1) + 2 + 13; // *N\r\n $7\r\nevalsha\r\n
    for (let i = 0; i < args.length; i++) {
      let a = args[i]!;
      if (typeof a !== 'string') args[i] = a = String(a);
      const n = Buffer.byteLength(a);
      lengths[i] = n;
      size += 1 + decimalLength(n) + 2 + n + 2;
    }
    const buf = Buffer.allocUnsafe(size);
    buf[0] = 0x2a; // *
    let pos = writeDecimal(buf, 1, args.length + 1);
    pos = buf.writeUInt16LE(CRLF, pos);
    pos += buf.write('$7\r\nevalsha\r\n', pos, 'latin1');
    for (let i = 0; i < args.length; i++) {
      const a = args[i] as string;
      const n = lengths[i]!;
      buf[pos++] = 0x24; // $
      pos = writeDecimal(buf, pos, n);
      pos = buf.writeUInt16LE(CRLF, pos);
      pos += buf.write(a, pos, n, n === a.length ? 'latin1' : 'utf8');
      pos = buf.writeUInt16LE(CRLF, pos);
    }
    return buf;
  }
}

/** Calls per batch call: a script call holds Redis for its whole batch (about 20 µs an event), so keep it short. */
const BATCH_CALLS = 64;

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/** Calls a defined script on a client or pipeline; the one place the untyped ioredis command is touched. */
export function callScript(target: Redis | Cluster | ReturnType<Redis['pipeline']>, script: string, args: (string | number)[]): Promise<unknown> {
  const fn = (target as unknown as Record<string, ScriptFn>)[commandName(script)];
  if (typeof fn !== 'function') throw new Error(`Lua script ${script} is not defined on this connection`);
  return fn.apply(target, args);
}

/**
 * Runs one script many times in one round trip, replies in order. A single Redis takes one explicit
 * pipeline of batch calls (BATCH_CALLS calls each, see batchLua); a cluster cannot (a pipeline and a script
 * call must stay on one slot), so calls are issued one by one together and the client's auto-pipelining
 * batches them per node. Either way, calls for one key run in the order given.
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
  const file = scriptFile(script);
  if (argsList.length === 1 || !file.batch) {
    for (const args of argsList) void callScript(pipeline, script, args);
    const results = (await pipeline.exec()) ?? [];
    return results.slice(before.length).map(([err, reply]) => {
      if (err) throw err;
      return reply;
    });
  }
  const batches = batchArgs(file, file.batch.sha, argsList);
  const send = pipeline as unknown as { sendCommand(c: Command): unknown };
  for (const args of batches) send.sendCommand(new PackedEvalsha(args));
  const results = (await pipeline.exec()) ?? [];
  const replies: unknown[][] = [];
  for (let b = 0; b < batches.length; b++) {
    const [err, reply] = results[before.length + b]!;
    if (!err) {
      replies.push(reply as unknown[]);
      continue;
    }
    // Redis lost its scripts (restart, SCRIPT FLUSH): the batch was refused before doing anything. It goes again
    // through ioredis's defined command, which loads the script; only refused batches, in order (another client
    // may have loaded the script meanwhile, so a later batch of this pipeline may have run).
    if (!err.message.includes('NOSCRIPT')) throw err;
    const batch = (redis as unknown as Record<string, ScriptFn>)[batchName(script)]!;
    replies.push((await batch.apply(redis, batches[b]!.slice(1))) as unknown[]);
  }
  const out = replies.flat();
  if (out.length !== argsList.length) throw new Error(`Lua script ${script}: ${out.length} replies to ${argsList.length} calls`);
  return out;
}

/** Each batch call's arguments: sha, key count, keys, then per call its argument count and arguments (batchLua). */
function batchArgs(file: ScriptFile, sha: string, argsList: readonly (string | number)[][]): (string | number)[][] {
  const nk = file.numberOfKeys;
  const out: (string | number)[][] = [];
  for (let start = 0; start < argsList.length; start += BATCH_CALLS) {
    const end = Math.min(start + BATCH_CALLS, argsList.length);
    let argc = 0;
    for (let i = start; i < end; i++) argc += argsList[i]!.length + 1;
    const args = new Array<string | number>(2 + argc);
    args[0] = sha;
    args[1] = (end - start) * nk;
    let k = 2;
    for (let i = start; i < end; i++) {
      const call = argsList[i]!;
      if (call.length < nk) throw new Error(`Lua script ${file.name} takes ${nk} keys; a call gave ${call.length} arguments`);
      for (let j = 0; j < nk; j++) args[k++] = call[j]!;
    }
    for (let i = start; i < end; i++) {
      const call = argsList[i]!;
      args[k++] = call.length - nk;
      for (let j = nk; j < call.length; j++) args[k++] = call[j]!;
    }
    out.push(args);
  }
  return out;
}

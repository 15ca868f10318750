// Responder commands at a terminal, talking to a running service's API:
//   replayguard revoke SESSION_HASH --reason TEXT [--tenant T]
//   replayguard revoke --incident ID --reason TEXT
//   replayguard incidents list [--rule R] [--severity S] [--min-severity S] [--status S] [--user U] [--session H] [--limit N]
//   replayguard incidents show ID
// --url (default $RG_URL or http://127.0.0.1:7420); the token comes from $RG_API_TOKEN, never a flag
// (flags end up in shell history and process lists).
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';

export const RESPONDER_USAGE = `  replayguard revoke SESSION_HASH --reason TEXT [--tenant T]   revoke a session now (token in $RG_API_TOKEN)
  replayguard revoke --incident ID --reason TEXT                revoke an incident's session
  replayguard incidents list [--rule R] [--severity S] [--status S] [--user U] [--session H] [--limit N]
  replayguard incidents show ID                                 (both take --url, default $RG_URL or http://127.0.0.1:7420)
`;

interface Io {
  env?: NodeJS.ProcessEnv;
  stdout?: Writable;
  stderr?: Writable;
}

async function call(base: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(new URL(path, base), {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, json };
}

function tokenOf(env: NodeJS.ProcessEnv, stderr: Writable): string | undefined {
  const t = env.RG_API_TOKEN;
  if (!t) stderr.write('replayguard: set RG_API_TOKEN to an API token (respond role to revoke, read to list)\n');
  return t;
}

function report(r: { status: number; json: unknown }, ok: number[], stdout: Writable, stderr: Writable): number {
  if (ok.includes(r.status)) {
    stdout.write(JSON.stringify(r.json, null, 2) + '\n');
    return 0;
  }
  const err = (r.json as { error?: { code?: string; message?: string } })?.error;
  stderr.write(`replayguard: HTTP ${r.status}${err ? ` ${err.code}: ${err.message}` : ''}\n`);
  return 1;
}

export async function runRevokeCommand(args: string[], io: Io = {}): Promise<number> {
  const env = io.env ?? process.env;
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { reason: { type: 'string' }, tenant: { type: 'string' }, incident: { type: 'string' }, url: { type: 'string' } } });
  if (!values.reason || (positionals.length !== 1 && !values.incident) || (positionals.length > 0 && values.incident)) {
    stderr.write(`usage:\n${RESPONDER_USAGE}`);
    return 2;
  }
  const token = tokenOf(env, stderr);
  if (!token) return 2;
  const base = values.url ?? env.RG_URL ?? 'http://127.0.0.1:7420';
  const r = values.incident
    ? await call(base, token, 'POST', `/v1/incidents/${encodeURIComponent(values.incident)}/revoke`, { reason: values.reason })
    : await call(base, token, 'POST', `/v1/sessions/${encodeURIComponent(positionals[0]!)}/revoke`, { reason: values.reason, ...(values.tenant ? { tenant: values.tenant } : {}) });
  return report(r, [202], stdout, stderr);
}

export async function runIncidentsCommand(args: string[], io: Io = {}): Promise<number> {
  const env = io.env ?? process.env;
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: {
      url: { type: 'string' }, rule: { type: 'string' }, severity: { type: 'string' }, 'min-severity': { type: 'string' }, status: { type: 'string' },
      user: { type: 'string' }, session: { type: 'string' }, limit: { type: 'string' },
    },
  });
  const [sub, id] = positionals;
  if (!(sub === 'list' && positionals.length === 1) && !(sub === 'show' && id && positionals.length === 2)) {
    stderr.write(`usage:\n${RESPONDER_USAGE}`);
    return 2;
  }
  const token = tokenOf(env, stderr);
  if (!token) return 2;
  const base = values.url ?? env.RG_URL ?? 'http://127.0.0.1:7420';
  if (sub === 'show') return report(await call(base, token, 'GET', `/v1/incidents/${encodeURIComponent(id!)}`), [200], stdout, stderr);
  const q = new URLSearchParams();
  for (const k of ['rule', 'severity', 'status', 'user', 'session', 'limit'] as const) if (values[k] !== undefined) q.set(k, values[k]!);
  if (values['min-severity'] !== undefined) q.set('min_severity', values['min-severity']);
  const r = await call(base, token, 'GET', `/v1/incidents?${q}`);
  if (r.status !== 200) return report(r, [200], stdout, stderr);
  // One line per incident: what a person scans first.
  for (const i of (r.json as { items: { id: string; severity: string; status: string; rule: { id: string }; user?: string; last_seen: string; count: number; evidence: { reason: string } }[] }).items) {
    stdout.write(`${i.id}  ${i.severity.padEnd(8)} ${i.status.padEnd(14)} ${i.rule.id}  ${i.user ?? '-'}  ${i.last_seen}  x${i.count}  ${i.evidence.reason}\n`);
  }
  return 0;
}

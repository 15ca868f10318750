// The service processes a benchmark starts: the API (`replayguard serve --no-worker`) and N ingest workers
// (`replayguard worker`), as child processes of the benchmark, with their stderr kept for the report.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = `${ROOT}bin/replayguard.js`;

export function spawnReplayguard(name, args, env, nodeFlags = []) {
  const child = spawn(process.execPath, [...nodeFlags, BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const proc = { name, pid: child.pid, child, stderr: '' };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    if (proc.stderr.length < 20_000) proc.stderr += d;
  });
  return proc;
}

export async function waitForHttp(url, timeoutMs = 20_000, proc = undefined) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (proc && proc.child.exitCode !== null) throw new Error(`${proc.name} exited (${proc.child.exitCode}): ${proc.stderr.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** SIGTERM (graceful: workers finish the jobs they hold), then SIGKILL after `graceMs`. */
export async function stopProcess(proc, graceMs = 10_000) {
  const c = proc.child;
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((resolve) => c.once('exit', resolve));
  c.kill('SIGTERM');
  const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

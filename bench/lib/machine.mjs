// The machine a figure was measured on: CPUs, memory, versions, and how busy it was.
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';

const run = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
};

export function describeMachine() {
  const lscpu = run('lscpu', []);
  const field = (name) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(lscpu)?.[1] ?? '?';
  const mem = /^Mem:\s+(\S+)/m.exec(run('free', ['-h']))?.[1] ?? '?';
  return {
    cpus: run('nproc', []),
    model: field('Model name'),
    memory: mem,
    node: process.version,
    redis: /v=(\S+)/.exec(run('redis-server', ['--version']))?.[1] ?? '?',
    load: loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

export function machineLine(m) {
  return `${m.cpus} CPUs (${m.model}), ${m.memory} RAM, Node ${m.node}, Redis ${m.redis}, load average ${m.load}`;
}

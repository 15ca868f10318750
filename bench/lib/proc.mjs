// CPU and memory of a process from /proc (Linux): utime+stime in clock ticks, VmRSS and VmHWM in kB.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let ticksPerSecond;
function clk() {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU seconds used so far (user + system), or undefined when the process is gone */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clk();
  } catch {
    return undefined;
  }
}

/** { rss, hwm } in MB */
export function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/**
 * Samples a set of named processes: CPU share over a window (start() .. stop()), peak RSS over the window
 * (sampled every `everyMs`), RSS at the end.
 */
export class ProcessSampler {
  constructor(procs, everyMs = 250) {
    this.procs = procs; // [{ name, pid }]
    this.everyMs = everyMs;
  }
  start() {
    this.t0 = performance.now();
    this.cpu0 = new Map(this.procs.map((p) => [p.pid, cpuSeconds(p.pid) ?? 0]));
    this.peak = new Map(this.procs.map((p) => [p.pid, memory(p.pid)?.rss ?? 0]));
    this.timer = setInterval(() => {
      for (const p of this.procs) {
        const m = memory(p.pid);
        if (m && m.rss > (this.peak.get(p.pid) ?? 0)) this.peak.set(p.pid, m.rss);
      }
    }, this.everyMs);
    this.timer.unref();
    return this;
  }
  /** [{ name, pid, cpu (fraction of one core), cpuSeconds, rss, peakRss }] */
  stop() {
    clearInterval(this.timer);
    const seconds = (performance.now() - this.t0) / 1000;
    return this.procs.map((p) => {
      const used = (cpuSeconds(p.pid) ?? this.cpu0.get(p.pid)) - this.cpu0.get(p.pid);
      const m = memory(p.pid);
      return { name: p.name, pid: p.pid, cpu: used / seconds, cpuSeconds: used, rss: m?.rss ?? 0, peakRss: Math.max(this.peak.get(p.pid) ?? 0, m?.rss ?? 0) };
    });
  }
}

// Memory and CPU of every process of the stack, from /proc: resident set size (VmRSS of the process and
// all its descendants) sampled every 250 ms keeping the peaks, and CPU time (utime + stime) per phase.
// Linux only; elsewhere the figures stay empty.

import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export interface Watched {
  name: string;
  pid: number;
  /** 'stack' counts towards the stack's total; others (the floor, the load generator) are shown apart. */
  group: 'stack' | 'floor' | 'bench';
}

export interface PhaseUsage {
  phase: string;
  seconds: number;
  /** Highest sum of the stack group's RSS at one sample, in MiB. */
  stackPeakMiB: number;
  /**
   * Highest sum of the stack group's PSS at one sample, in MiB: what the stack really holds, each shared
   * page (five daprd run one binary, five apps one Node) counted once.
   */
  stackPeakPssMiB: number;
  /** Highest RSS of each process during the phase, in MiB. */
  peakMiB: Record<string, number>;
  /** CPU time each process used during the phase, in seconds. */
  cpuSeconds: Record<string, number>;
  /** Share of the whole machine's CPU that was busy (all processes, ours and others'), 0–100. */
  machineBusyPercent: number;
  /** Share of the whole machine's CPU that the watched processes used, 0–100: the rest is other work. */
  watchedPercent: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux we run on

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The process and all its descendants, found through /proc/<pid>/task/<tid>/children, except those in
 * `apart` and theirs (processes watched on their own: the stack's are children of the load generator).
 */
export function family(pid: number, apart: Set<number> = new Set()): number[] {
  const all: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    if (next !== pid && apart.has(next)) continue;
    all.push(next);
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${next}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      const children = read(`/proc/${next}/task/${tid}/children`)?.trim();
      if (children) queue.push(...children.split(/\s+/).map(Number));
    }
  }
  return all;
}

/** VmRSS of one process in KiB (0 when it is gone): /proc says kB and means KiB. */
function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(read(`/proc/${pid}/status`) ?? '');
  return match ? Number(match[1]) : 0;
}

/** Proportional set size of one process in KiB: shared pages divided among the processes sharing them. */
function pssKiB(pid: number): number {
  const match = /^Pss:\s+(\d+)\s+kB/m.exec(read(`/proc/${pid}/smaps_rollup`) ?? '');
  return match ? Number(match[1]) : 0;
}

/** utime + stime of one process in clock ticks (0 when it is gone). */
function cpuTicks(pid: number): number {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return 0;
  // Fields after the command name, which may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Busy and total ticks of the whole machine, from the first line of /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const line = read('/proc/stat')?.split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;

interface Window {
  phase: string;
  began: number;
  stackPeakKiB: number;
  stackPeakPssKiB: number;
  peakKiB: Map<string, number>;
  cpuAtStart: Map<string, number>;
  machineAtStart: { busy: number; total: number };
}

export class UsageSampler {
  private timer: NodeJS.Timeout | undefined;
  private window: Window | undefined;
  private readonly finished: PhaseUsage[] = [];
  /** Peaks over the whole run, per process. */
  private readonly overallPeakKiB = new Map<string, number>();
  /** CPU ticks of processes that have been seen, so a process that exits keeps its last figure. */
  private readonly lastTicks = new Map<string, number>();

  constructor(
    private readonly watched: () => Watched[],
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): PhaseUsage[] {
    if (this.timer) clearInterval(this.timer);
    this.endPhase();
    return this.finished;
  }

  /** Ends the current phase (if any) and starts measuring a new one. */
  phase(name: string): void {
    this.endPhase();
    this.window = {
      phase: name,
      began: Date.now(),
      stackPeakKiB: 0,
      stackPeakPssKiB: 0,
      peakKiB: new Map(),
      cpuAtStart: this.ticksByName(),
      machineAtStart: machineTicks(),
    };
    this.sample();
  }

  /** Ends the current phase without starting another (the time between phases is not measured). */
  endPhase(): void {
    const window = this.window;
    if (!window) return;
    this.sample();
    this.window = undefined;
    const ticksNow = this.ticksByName();
    const machine = machineTicks();
    const cpuSeconds: Record<string, number> = {};
    for (const [name, ticks] of ticksNow) {
      const used = ticks - (window.cpuAtStart.get(name) ?? ticks);
      cpuSeconds[name] = Math.round((used / TICKS_PER_SECOND) * 100) / 100;
    }
    const totalTicks = machine.total - window.machineAtStart.total;
    const watchedSeconds = Object.values(cpuSeconds).reduce((sum, value) => sum + value, 0);
    const capacity = ((Date.now() - window.began) / 1000) * cpus().length;
    this.finished.push({
      phase: window.phase,
      seconds: Math.round((Date.now() - window.began) / 100) / 10,
      stackPeakMiB: mib(window.stackPeakKiB),
      stackPeakPssMiB: mib(window.stackPeakPssKiB),
      peakMiB: Object.fromEntries([...window.peakKiB].map(([name, kib]) => [name, mib(kib)])),
      cpuSeconds,
      machineBusyPercent:
        totalTicks > 0 ? Math.round(((machine.busy - window.machineAtStart.busy) / totalTicks) * 1000) / 10 : 0,
      watchedPercent: capacity > 0 ? Math.round((watchedSeconds / capacity) * 1000) / 10 : 0,
    });
  }

  /** Highest RSS of each process over the whole run, in MiB. */
  overallPeaks(): Record<string, number> {
    return Object.fromEntries([...this.overallPeakKiB].map(([name, kib]) => [name, mib(kib)]));
  }

  private ticksByName(): Map<string, number> {
    const watched = this.watched();
    const apart = new Set(watched.map(({ pid }) => pid));
    for (const { name, pid } of watched) {
      const ticks = family(pid, apart).reduce((sum, member) => sum + cpuTicks(member), 0);
      if (ticks > 0) this.lastTicks.set(name, ticks);
    }
    return new Map(this.lastTicks);
  }

  private sample(): void {
    let stack = 0;
    let stackPss = 0;
    const watched = this.watched();
    const apart = new Set(watched.map(({ pid }) => pid));
    for (const { name, pid, group } of watched) {
      const members = family(pid, apart);
      const kib = members.reduce((sum, member) => sum + rssKiB(member), 0);
      if (group === 'stack') {
        stack += kib;
        // Only while measuring a phase: the kernel walks the page tables for it.
        if (this.window) stackPss += members.reduce((sum, member) => sum + pssKiB(member), 0);
      }
      this.overallPeakKiB.set(name, Math.max(this.overallPeakKiB.get(name) ?? 0, kib));
      if (this.window) this.window.peakKiB.set(name, Math.max(this.window.peakKiB.get(name) ?? 0, kib));
    }
    if (this.window) {
      this.window.stackPeakKiB = Math.max(this.window.stackPeakKiB, stack);
      this.window.stackPeakPssKiB = Math.max(this.window.stackPeakPssKiB, stackPss);
    }
  }
}

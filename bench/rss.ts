// Memory and CPU of every process of the stack, from /proc (Linux only): RSS peaks sampled every 250 ms,
// the stack's PSS every second, CPU time per phase. It shares the load generator's event loop, so it keeps
// its work there small (docs/architecture.md, "The benchmark").

import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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
/** How often each watched process's descendants are looked up again (also at every phase boundary). */
const FAMILY_REFRESH_MS = 2_000;
/** How often the stack's PSS is summed during a phase (also at its end). */
const PSS_INTERVAL_MS = 1_000;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The first bytes of a file: enough of /proc/self/smaps for its first mapping, without generating the rest. */
function readStart(path: string, bytes: number): string | undefined {
  try {
    const fd = openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(bytes);
      return buffer.toString('utf8', 0, readSync(fd, buffer, 0, bytes, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * The process and its descendants, breadth first, except those in `apart` and theirs (processes watched on
 * their own: the stack's are children of the load generator).
 */
export function familyOf(pid: number, childrenOf: (pid: number) => number[], apart = new Set<number>()): number[] {
  const all: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (next !== pid && apart.has(next)) continue;
    all.push(next);
    queue.push(...childrenOf(next));
  }
  return all;
}

/** Children of one process: each thread lists those it started in /proc/<pid>/task/<tid>/children. */
function childrenOf(pid: number): number[] {
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return threads.flatMap((tid) => {
    const children = read(`/proc/${pid}/task/${tid}/children`)?.trim();
    return children ? children.split(/\s+/).map(Number) : [];
  });
}

/** Resident pages (the second field of /proc/<pid>/statm) in KiB; 0 for an unreadable line. */
export function residentKiB(statm: string, pageKiB: number): number {
  const resident = Number(statm.split(' ')[1]);
  return Number.isFinite(resident) ? resident * pageKiB : 0;
}

/** The Pss line of /proc/<pid>/smaps_rollup, in KiB (/proc says kB and means KiB). */
export function pssKiB(smapsRollup: string): number {
  const match = /^Pss:\s+(\d+)\s+kB/m.exec(smapsRollup);
  return match ? Number(match[1]) : 0;
}

/** utime + stime in clock ticks from /proc/<pid>/stat; 0 for an unreadable line. */
export function cpuTicks(stat: string): number {
  // Fields after the command name, which may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks : 0;
}

/** Busy and total ticks of the whole machine, from the first line of /proc/stat. */
export function machineTicks(procStat: string): { busy: number; total: number } {
  const line = procStat.split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** statm counts pages: the kernel's page size in KiB, from our own first mapping (4 if unreadable). */
function pageSizeKiB(): number {
  const match = /^KernelPageSize:\s+(\d+)\s+kB/m.exec(readStart('/proc/self/smaps', 4096) ?? '');
  return match ? Number(match[1]) : 4;
}

/** Which processes are watched, as one string: the families are looked up again when it changes. */
const watchedKey = (watched: Watched[]) => watched.map(({ name, pid }) => `${name}:${pid}`).join(' ');
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;

interface Family {
  name: string;
  group: Watched['group'];
  /** The watched process and its descendants, as last looked up. */
  members: number[];
}

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
  private readonly pageKiB = process.platform === 'linux' ? pageSizeKiB() : 4;
  private families: Family[] = [];
  /** The watched processes the families were looked up for, and when. */
  private familiesOf = '';
  private familiesAt = 0;
  private pssRunning = false;
  private pssAt = 0;

  constructor(
    private readonly watched: () => Watched[],
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    if (process.platform !== 'linux') return;
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
    this.refreshFamilies();
    this.window = {
      phase: name,
      began: Date.now(),
      stackPeakKiB: 0,
      stackPeakPssKiB: 0,
      peakKiB: new Map(),
      cpuAtStart: this.ticksByName(),
      machineAtStart: machineTicks(read('/proc/stat') ?? ''),
    };
    this.sample();
  }

  /** Ends the current phase without starting another (the time between phases is not measured). */
  endPhase(): void {
    const window = this.window;
    if (!window) return;
    this.refreshFamilies();
    this.sample();
    // A last PSS sum, here on the event loop: nothing is being timed between phases.
    const stackPss = sum(this.stackMembers().map((pid) => pssKiB(read(`/proc/${pid}/smaps_rollup`) ?? '')));
    window.stackPeakPssKiB = Math.max(window.stackPeakPssKiB, stackPss);
    this.window = undefined;
    const ticksNow = this.ticksByName();
    const machine = machineTicks(read('/proc/stat') ?? '');
    const cpuSeconds: Record<string, number> = {};
    for (const [name, ticks] of ticksNow) {
      const used = ticks - (window.cpuAtStart.get(name) ?? ticks);
      cpuSeconds[name] = Math.round((used / TICKS_PER_SECOND) * 100) / 100;
    }
    const totalTicks = machine.total - window.machineAtStart.total;
    const watchedSeconds = sum(Object.values(cpuSeconds));
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

  /** Looks up each watched process's descendants again: at phase boundaries, when due, when the list changed. */
  private refreshFamilies(): void {
    const watched = this.watched();
    const apart = new Set(watched.map(({ pid }) => pid));
    this.families = watched.map(({ name, pid, group }) => ({ name, group, members: familyOf(pid, childrenOf, apart) }));
    this.familiesOf = watchedKey(watched);
    this.familiesAt = Date.now();
  }

  private currentFamilies(): Family[] {
    if (watchedKey(this.watched()) !== this.familiesOf || Date.now() - this.familiesAt >= FAMILY_REFRESH_MS)
      this.refreshFamilies();
    return this.families;
  }

  private stackMembers(): number[] {
    return this.families.filter(({ group }) => group === 'stack').flatMap(({ members }) => members);
  }

  private ticksByName(): Map<string, number> {
    for (const { name, members } of this.families) {
      const ticks = sum(members.map((pid) => cpuTicks(read(`/proc/${pid}/stat`) ?? '')));
      if (ticks > 0) this.lastTicks.set(name, ticks);
    }
    return new Map(this.lastTicks);
  }

  private sample(): void {
    let stackKiB = 0;
    for (const { name, group, members } of this.currentFamilies()) {
      const kib = sum(members.map((pid) => residentKiB(read(`/proc/${pid}/statm`) ?? '', this.pageKiB)));
      if (group === 'stack') stackKiB += kib;
      this.overallPeakKiB.set(name, Math.max(this.overallPeakKiB.get(name) ?? 0, kib));
      if (this.window) this.window.peakKiB.set(name, Math.max(this.window.peakKiB.get(name) ?? 0, kib));
    }
    const window = this.window;
    if (!window) return;
    window.stackPeakKiB = Math.max(window.stackPeakKiB, stackKiB);
    if (!this.pssRunning && Date.now() - this.pssAt >= PSS_INTERVAL_MS) void this.samplePss(window);
  }

  /**
   * One sum of the stack's PSS, read in libuv's threads so that the page-table walks do not hold up the
   * event loop, one file after another so that they take at most one core from the stack at a time. One
   * sum at a time; a sum that comes in after its phase ended is not counted (endPhase takes its own).
   */
  private async samplePss(window: Window): Promise<void> {
    this.pssRunning = true;
    this.pssAt = Date.now();
    try {
      let stackPss = 0;
      for (const pid of this.stackMembers()) {
        stackPss += await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').then(pssKiB, () => 0);
      }
      window.stackPeakPssKiB = Math.max(window.stackPeakPssKiB, stackPss);
    } finally {
      this.pssRunning = false;
    }
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { cpuTicks, familyOf, machineTicks, pssKiB, residentKiB, UsageSampler } from './rss.ts';

describe('familyOf', () => {
  // 1 ─┬─ 2 ── 4
  //    └─ 3 ── 5 ── 6
  const tree: Record<number, number[]> = { 1: [2, 3], 2: [4], 3: [5], 5: [6] };
  const childrenOf = (pid: number) => tree[pid] ?? [];

  it('is the process and all its descendants, breadth first', () => {
    expect(familyOf(1, childrenOf)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(familyOf(4, childrenOf)).toEqual([4]);
  });

  it('leaves out processes watched apart, and their descendants', () => {
    expect(familyOf(1, childrenOf, new Set([1, 3]))).toEqual([1, 2, 4]);
  });

  it('keeps a process watched apart that is the root itself', () => {
    expect(familyOf(3, childrenOf, new Set([1, 3]))).toEqual([3, 5, 6]);
  });
});

describe('/proc parsers', () => {
  it('reads resident pages from statm as KiB', () => {
    expect(residentKiB('182059 10090 8509 6802 0 12184 0\n', 4)).toBe(40360);
    expect(residentKiB('182059 10090 8509 6802 0 12184 0\n', 64)).toBe(645760);
    expect(residentKiB('', 4)).toBe(0);
  });

  it('reads Pss from smaps_rollup, not Pss_Anon and the like', () => {
    const rollup = [
      '00400000-7ffd1c9f4000 ---p 00000000 00:00 0                          [rollup]',
      'Rss:              149720 kB',
      'Pss:               81234 kB',
      'Pss_Dirty:         70000 kB',
      'Pss_Anon:          69000 kB',
    ].join('\n');
    expect(pssKiB(rollup)).toBe(81234);
    expect(pssKiB('')).toBe(0);
  });

  it('adds utime and stime from stat, whatever the command name holds', () => {
    const stat = '4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 11 0 100 0 0';
    expect(cpuTicks(stat)).toBe(1234 + 567);
    expect(cpuTicks('')).toBe(0);
  });

  it('splits the machine’s ticks into busy and total (idle and iowait are not busy)', () => {
    const procStat = 'cpu  100 5 50 800 20 3 2 0 0 0\ncpu0 50 2 25 400 10 1 1 0 0 0\n';
    expect(machineTicks(procStat)).toEqual({ busy: 160, total: 980 });
  });
});

describe.runIf(process.platform === 'linux')('UsageSampler on this very process', () => {
  it('reports its RSS, PSS and CPU for a phase', async () => {
    const sampler = new UsageSampler(() => [{ name: 'test', pid: process.pid, group: 'stack' }], 20);
    sampler.start();
    sampler.phase('busy');
    const began = process.cpuUsage();
    const cpuMs = () => {
      const used = process.cpuUsage(began);
      return (used.user + used.system) / 1000;
    };
    while (cpuMs() < 150) Math.sqrt(Math.random());
    await sleep(100);
    const rssMiB = process.memoryUsage().rss / 2 ** 20;
    const [usage] = sampler.stop();
    expect(usage?.phase).toBe('busy');
    expect(usage?.peakMiB.test).toBeGreaterThan(rssMiB * 0.8);
    expect(usage?.stackPeakMiB).toBe(usage?.peakMiB.test);
    expect(usage?.stackPeakPssMiB).toBeGreaterThan(0);
    expect(usage?.stackPeakPssMiB).toBeLessThanOrEqual(usage?.stackPeakMiB ?? 0);
    expect(usage?.cpuSeconds.test).toBeGreaterThanOrEqual(0.1);
    expect(sampler.overallPeaks().test).toBeGreaterThanOrEqual(usage?.peakMiB.test ?? 0);
  });
});
